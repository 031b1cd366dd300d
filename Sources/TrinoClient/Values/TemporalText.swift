/// Parsers for the text forms Trino uses for dates, times, timestamps and intervals.
enum TemporalText {
    /// `YYYY-MM-DD` (years may be negative or longer than four digits).
    static func date(_ b: UnsafeBufferPointer<UInt8>) -> TrinoDate? {
        var i = 0
        return self.date(b, &i).flatMap { i == b.count ? $0 : nil }
    }

    static func date(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> TrinoDate? {
        var negative = false
        if i < b.count, b[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        guard let year = self.digits(b, &i, min: 1, max: 9), self.consume(b, &i, "-"),
              let month = self.digits(b, &i, min: 2, max: 2), self.consume(b, &i, "-"),
              let day = self.digits(b, &i, min: 2, max: 2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        return TrinoDate(year: negative ? -year : year, month: month, day: day)
    }

    /// `HH:MM:SS[.fraction]`, stopping before a zone.
    static func time(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> TrinoTime? {
        guard let hour = self.digits(b, &i, min: 2, max: 2), self.consume(b, &i, ":"),
              let minute = self.digits(b, &i, min: 2, max: 2), self.consume(b, &i, ":"),
              let second = self.digits(b, &i, min: 2, max: 2),
              hour < 24, minute < 60, second < 61 else { return nil }
        var picos: Int64 = 0
        var precision = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < b.count, let d = self.digit(b[i]) {
                guard precision < 12 else { return nil }
                picos = picos * 10 + Int64(d)
                precision += 1
                i += 1
            }
            guard precision > 0 else { return nil }
            for _ in precision..<12 { picos *= 10 }
        }
        return TrinoTime(hour: hour, minute: minute, second: second, picoseconds: picos, precision: precision)
    }

    static func time(_ text: String) -> TrinoTime? {
        self.whole(text) { b, i in self.time(b, &i) }
    }

    /// `HH:MM:SS[.f]+HH:MM` (a space before the offset is tolerated).
    static func timeWithZone(_ text: String) -> (TrinoTime, Int)? {
        self.whole(text) { b, i -> (TrinoTime, Int)? in
            guard let time = self.time(b, &i) else { return nil }
            if i < b.count, b[i] == UInt8(ascii: " ") { i += 1 }
            guard let offset = self.offset(b, &i) else { return nil }
            return (time, offset)
        }
    }

    /// `YYYY-MM-DD HH:MM:SS[.f]`
    static func timestamp(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> TrinoTimestamp? {
        guard let date = self.date(b, &i), self.consume(b, &i, " "), let time = self.time(b, &i) else { return nil }
        return TrinoTimestamp(date: date, time: time)
    }

    static func timestamp(_ text: String) -> TrinoTimestamp? {
        self.whole(text) { b, i in self.timestamp(b, &i) }
    }

    /// Whether `bytes` is exactly one value of `type` as Trino writes it (checks without building the value; nil
    /// when this type has no byte-level check).
    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>, as type: TrinoType) -> Bool? {
        var i = 0
        switch type {
        case .timestamp: return self.timestamp(bytes, &i) != nil && i == bytes.count
        case .timestampWithTimeZone: return self.timestampWithZone(bytes) != nil
        case .decimal: return self.isDecimal(bytes)
        default: return nil
        }
    }

    /// `[+-]digits[.digits]` with at least one digit on one side of the point, as `TrinoDecimal` accepts.
    static func isDecimal(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") { i += 1 }
        var integerDigits = 0, fractionDigits = 0, point = false
        while i < b.count {
            if self.digit(b[i]) != nil {
                if point { fractionDigits += 1 } else { integerDigits += 1 }
            } else if b[i] == UInt8(ascii: "."), !point {
                point = true
            } else {
                return false
            }
            i += 1
        }
        return point ? fractionDigits > 0 : integerDigits > 0
    }

    /// `YYYY-MM-DD HH:MM:SS[.f] <zone>` where zone is an IANA id or an offset.
    static func timestampWithZone(_ text: String) -> (TrinoTimestamp, TrinoTimeZone)? {
        Array(text.utf8).withUnsafeBufferPointer { self.timestampWithZone($0) }
    }

    static func timestampWithZone(_ bytes: UnsafeBufferPointer<UInt8>) -> (TrinoTimestamp, TrinoTimeZone)? {
        self.whole(bytes) { b, i -> (TrinoTimestamp, TrinoTimeZone)? in
            guard let ts = self.timestamp(b, &i), self.consume(b, &i, " "), i < b.count else { return nil }
            if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                guard let offset = self.offset(b, &i) else { return nil }
                return (ts, .offset(minutes: offset))
            }
            // Checked as bytes: Foundation's String.contains was a seventh of decoding a page.
            guard i < b.count, !b[i...].contains(UInt8(ascii: " ")) else { return nil }
            let zone = String(decoding: UnsafeBufferPointer(rebasing: b[i...]), as: UTF8.self)
            i = b.count
            return (ts, .named(zone))
        }
    }

    /// `[-]Y-M` in months.
    static func yearToMonth(_ text: String) -> Int? {
        let negative = text.hasPrefix("-")
        let parts = text.dropFirst(negative ? 1 : 0).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let years = Int(parts[0]), let months = Int(parts[1]), years >= 0, (0..<12).contains(months) else { return nil }
        let total = years * 12 + months
        return negative ? -total : total
    }

    /// `[-]D HH:MM:SS.mmm` in milliseconds.
    static func dayToSecond(_ text: String) -> Int64? {
        let negative = text.hasPrefix("-")
        let parts = text.dropFirst(negative ? 1 : 0).split(separator: " ")
        guard parts.count == 2, let days = Int64(parts[0]), days >= 0,
              let time = self.time(String(parts[1])) else { return nil }
        let millis = ((days * 24 + Int64(time.hour)) * 60 + Int64(time.minute)) * 60_000 + Int64(time.second) * 1000 + time.picoseconds / 1_000_000_000
        return negative ? -millis : millis
    }

    private static func offset(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Int? {
        guard i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return nil }
        let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
        i += 1
        guard let hours = self.digits(b, &i, min: 2, max: 2), self.consume(b, &i, ":"),
              let minutes = self.digits(b, &i, min: 2, max: 2) else { return nil }
        return sign * (hours * 60 + minutes)
    }

    private static func whole<T>(_ text: String, _ parse: (UnsafeBufferPointer<UInt8>, inout Int) -> T?) -> T? {
        Array(text.utf8).withUnsafeBufferPointer { self.whole($0, parse) }
    }

    private static func whole<T>(_ b: UnsafeBufferPointer<UInt8>, _ parse: (UnsafeBufferPointer<UInt8>, inout Int) -> T?) -> T? {
        var i = 0
        guard let value = parse(b, &i), i == b.count else { return nil }
        return value
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func digits(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, min: Int, max: Int) -> Int? {
        var value = 0
        var count = 0
        while i < b.count, count < max, let d = self.digit(b[i]) {
            value = value * 10 + d
            count += 1
            i += 1
        }
        return count >= min ? value : nil
    }

    private static func consume(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ char: Unicode.Scalar) -> Bool {
        guard i < b.count, b[i] == UInt8(ascii: char) else { return false }
        i += 1
        return true
    }
}
