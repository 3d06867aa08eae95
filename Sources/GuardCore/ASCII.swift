/// Named ASCII bytes, for the code that reads and writes bytes (the HTTP, SSE and JSON readers, the JSON writer,
/// the escapers, `check`'s output): `ASCII.space`, not `0x20`.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    /// The space, and the first printable byte: below it are the control bytes.
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let leftParenthesis: UInt8 = 0x28
    static let rightParenthesis: UInt8 = 0x29
    static let zero: UInt8 = 0x30
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let backslash: UInt8 = 0x5C
    static let rightBracket: UInt8 = 0x5D
    static let lowercaseA: UInt8 = 0x61
    /// DEL, the one control byte above the printable range.
    static let delete: UInt8 = 0x7F

    /// The byte in lower case when it is an ASCII capital letter.
    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
}
