namespace Usernet.Link;

/// <summary>
/// What a binding table (<see cref="MacTable"/>, <see cref="AddressBindings"/>) made of a guest
/// sending from a MAC or an address.
/// </summary>
internal enum BindResult
{
    /// <summary>It was already the sender's.</summary>
    Known,

    /// <summary>It was free and is now the sender's.</summary>
    Bound,

    /// <summary>Bound, and the link gave up its least recently used one to make room.</summary>
    BoundEvicting,

    /// <summary>Another holds it: the frame is a forgery.</summary>
    Taken,

    /// <summary>It is free but the table is full: the frame is dropped.</summary>
    Full,
}
