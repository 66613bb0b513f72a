namespace Usernet.Stack;

/// <summary>A rate limit with explicit time: <c>rate</c> tokens a second, at most <c>burst</c> saved.</summary>
internal sealed class TokenBucket
{
    private readonly double _rate;
    private readonly double _burst;
    private double _tokens;
    private Instant _last = Instant.Zero;

    public TokenBucket(double rate, double burst)
    {
        _rate = rate;
        _burst = burst;
        _tokens = burst;
    }

    public bool TryTake(Instant now)
    {
        if (now > _last)
        {
            _tokens = Math.Min(_burst, _tokens + (now - _last).TotalSeconds * _rate);
            _last = now;
        }
        if (_tokens < 1)
        {
            return false;
        }
        _tokens -= 1;
        return true;
    }
}
