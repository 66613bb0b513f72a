namespace Usernet.Services.Proxy.Pac;

/// <summary>
/// The standard PAC helper functions (Netscape's PAC specification, as Mozilla and Chromium
/// ship them) in JavaScript, over three host functions the engine provides: dnsResolve,
/// myIpAddress and __usernetNow (the clock, so that time is passed in and tests fix it).
/// </summary>
internal static class PacLibrary
{
    public const string Source = """
        var __pacIpv4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
        var __pacDays = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
        var __pacMonths = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
        function isPlainHostName(host) { host = String(host); return host.indexOf('.') < 0 && host.indexOf(':') < 0; }
        function dnsDomainIs(host, domain) {
            host = String(host).toLowerCase(); domain = String(domain).toLowerCase();
            return host.length >= domain.length && host.substring(host.length - domain.length) == domain;
        }
        function localHostOrDomainIs(host, hostdom) {
            host = String(host).toLowerCase(); hostdom = String(hostdom).toLowerCase();
            return host == hostdom || hostdom.lastIndexOf(host + '.', 0) == 0;
        }
        function dnsDomainLevels(host) { return String(host).split('.').length - 1; }
        function isResolvable(host) { return dnsResolve(host) != null; }
        function convert_addr(ipchars) {
            var b = String(ipchars).split('.');
            return (((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff)) >>> 0;
        }
        function isInNet(host, pattern, mask) {
            host = String(host);
            if (!__pacIpv4.test(host)) { host = dnsResolve(host); if (host == null) return false; }
            if (!__pacIpv4.test(pattern) || !__pacIpv4.test(mask)) return false;
            var m = convert_addr(mask);
            return ((convert_addr(host) & m) >>> 0) == ((convert_addr(pattern) & m) >>> 0);
        }
        function shExpMatch(text, pattern) {
            var expression = String(pattern).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
            return new RegExp('^' + expression + '$').test(String(text));
        }
        function __pacArgs(args) {
            var list = Array.prototype.slice.call(args);
            var gmt = list.length > 0 && list[list.length - 1] == 'GMT';
            if (gmt) list.pop();
            var now = new Date(__usernetNow());
            return { list: list, gmt: gmt, now: now };
        }
        function weekdayRange() {
            var a = __pacArgs(arguments);
            if (a.list.length < 1 || a.list.length > 2) return false;
            var day = a.gmt ? a.now.getUTCDay() : a.now.getDay();
            var first = __pacDays.indexOf(String(a.list[0]).toUpperCase());
            var last = a.list.length == 2 ? __pacDays.indexOf(String(a.list[1]).toUpperCase()) : first;
            if (first < 0 || last < 0) return false;
            return first <= last ? (first <= day && day <= last) : (day >= first || day <= last);
        }
        function dateRange() {
            var a = __pacArgs(arguments);
            var n = a.list.length;
            if (n < 1 || n > 6 || (n > 1 && n % 2 == 1)) return false;
            var now = a.now;
            var today = { day: a.gmt ? now.getUTCDate() : now.getDate(), month: a.gmt ? now.getUTCMonth() : now.getMonth(), year: a.gmt ? now.getUTCFullYear() : now.getFullYear() };
            function parse(values) {
                var spec = {};
                for (var i = 0; i < values.length; i++) {
                    var v = values[i];
                    var month = __pacMonths.indexOf(String(v).toUpperCase());
                    if (month >= 0) spec.month = month;
                    else if (typeof v == 'number' || /^\d+$/.test(String(v))) { v = Number(v); if (v > 31) spec.year = v; else spec.day = v; }
                    else return null;
                }
                return spec;
            }
            function key(spec, fields) {
                return (fields.year ? spec.year : 0) * 10000 + (fields.month ? spec.month + 1 : 0) * 100 + (fields.day ? spec.day : 0);
            }
            var start = parse(a.list.slice(0, n == 1 ? 1 : n / 2));
            var end = n == 1 ? start : parse(a.list.slice(n / 2));
            if (start == null || end == null) return false;
            var fields = { year: start.year !== undefined, month: start.month !== undefined, day: start.day !== undefined };
            if (fields.year != (end.year !== undefined) || fields.month != (end.month !== undefined) || fields.day != (end.day !== undefined)) return false;
            var from = key(start, fields), to = key(end, fields), at = key(today, fields);
            return from <= to ? (from <= at && at <= to) : (at >= from || at <= to);
        }
        function timeRange() {
            var a = __pacArgs(arguments);
            var v = a.list.map(Number);
            var now = a.now;
            var h = a.gmt ? now.getUTCHours() : now.getHours();
            var seconds = h * 3600 + (a.gmt ? now.getUTCMinutes() : now.getMinutes()) * 60 + (a.gmt ? now.getUTCSeconds() : now.getSeconds());
            var from, to;
            switch (v.length) {
                case 1: return h == v[0];
                case 2: from = v[0] * 3600; to = v[1] * 3600 + 3599; break;
                case 4: from = v[0] * 3600 + v[1] * 60; to = v[2] * 3600 + v[3] * 60 + 59; break;
                case 6: from = v[0] * 3600 + v[1] * 60 + v[2]; to = v[3] * 3600 + v[4] * 60 + v[5]; break;
                default: return false;
            }
            return from <= to ? (from <= seconds && seconds <= to) : (seconds >= from || seconds <= to);
        }
        """;
}
