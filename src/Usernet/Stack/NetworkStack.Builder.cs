using Usernet.Link;
using Usernet.Platform;

namespace Usernet.Stack;

internal sealed partial class NetworkStack
{
    /// <summary>
    /// Makes a stack with the transports and services it hands guest traffic to. They answer the
    /// guest through the stack and the stack delivers to them, so each is made by a factory given
    /// the stack (as gVisor's stack.New takes transport protocol factories), and the stack is
    /// handed out by <see cref="Build"/> only once it has them all.
    /// </summary>
    public sealed class Builder
    {
        private readonly NetworkStack _stack;
        private bool _built;

        public Builder(StackOptions options, IFrameTransmitter transmitter, TimerQueue timers) =>
            _stack = new NetworkStack(options, transmitter, timers);

        /// <summary>Guest TCP to anywhere but the gateway's own services.</summary>
        public T Tcp<T>(Func<NetworkStack, T> make) where T : IIpTransport => Add(make, made => _stack.Tcp = made);

        /// <summary>Guest UDP to anywhere but the gateway.</summary>
        public T Udp<T>(Func<NetworkStack, T> make) where T : IIpTransport => Add(make, made => _stack.UdpNat = made);

        /// <summary>Guest ICMP and ICMPv6 echo to anywhere but the stack's own addresses.</summary>
        public T Echo<T>(Func<NetworkStack, T> make) where T : IIpTransport => Add(make, made => _stack.IcmpNat = _stack.IcmpNat6 = made);

        /// <summary>A service on UDP <paramref name="port"/> of the gateway (DHCP, DNS).</summary>
        public T UdpService<T>(ushort port, Func<NetworkStack, T> make) where T : IUdpService =>
            Add(make, made => _stack._udpServices.Add(port, made));

        public NetworkStack Build()
        {
            ThrowIfBuilt();
            _built = true;
            return _stack;
        }

        private T Add<T>(Func<NetworkStack, T> make, Action<T> attach)
        {
            ThrowIfBuilt();
            T made = make(_stack);
            attach(made);
            return made;
        }

        private void ThrowIfBuilt()
        {
            if (_built)
            {
                throw new InvalidOperationException("the stack is already built");
            }
        }
    }
}
