namespace Usernet.Config;

/// <summary>
/// A check of one key's value against the others (an address inside the subnet, an MTU that
/// IPv6 can use). Returns the problem, or null. Runs after every key has its value.
/// </summary>
internal delegate string? SettingRule<in T>(SettingValues values, T value);
