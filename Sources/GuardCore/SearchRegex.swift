import Foundation

/// The one regular expression engine (ICU's, through Foundation's `NSRegularExpression`): a policy's `regex` key
/// and the `-n`/`-l` display filters read a pattern alike, so a filter tested against a policy behaves the same.
public struct SearchRegex: @unchecked Sendable {
    // NSRegularExpression is immutable and documented thread-safe; it is not marked Sendable.
    public let pattern: String
    private let re: NSRegularExpression

    /// - Throws: Foundation's error, which names what is wrong with `pattern`.
    public init(_ pattern: String) throws {
        self.pattern = pattern
        re = try NSRegularExpression(pattern: pattern)
    }

    /// Whether the pattern matches somewhere in `s`.
    public func search(_ s: String) -> Bool {
        re.firstMatch(in: s, options: [], range: NSRange(location: 0, length: (s as NSString).length)) != nil
    }
}
