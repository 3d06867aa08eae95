/// A place in a policy file: file name, line and column, both counted from 1.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// Why a policy cannot be loaded. Every case names where (file:line:column) and says what to write instead.
///
/// A policy with any of these errors is rejected whole: it never half-loads.
public enum PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The policy file could not be read (missing, unreadable, not UTF-8).
    case unreadable(file: String, reason: String)
    /// The text is not valid YAML.
    case syntax(SourceLocation, message: String)
    /// A mapping has a key that this place does not take.
    case unknownKey(SourceLocation, key: String, context: String, allowed: [String])
    /// A mapping repeats a key.
    case duplicateKey(SourceLocation, key: String)
    /// A value has the wrong YAML type (a list where a string belongs, ...).
    case wrongType(SourceLocation, key: String, expected: String, example: String)
    /// A required key is absent.
    case missingKey(SourceLocation, key: String, context: String, example: String)
    /// `version:` is not one this claude-guard knows.
    case unsupportedVersion(SourceLocation, found: String)
    /// An action is not allow, alert, stop or kill (or, for `on_timeout`, not kill or allow).
    case unknownAction(SourceLocation, found: String, allowed: [String])
    /// A severity is not info, low, medium, high or critical.
    case unknownSeverity(SourceLocation, found: String)
    /// `mode:` is not enforce or audit.
    case unknownMode(SourceLocation, found: String)
    /// A glob pattern does not compile.
    case badGlob(SourceLocation, pattern: String, reason: String)
    /// A regular expression does not compile.
    case badRegex(SourceLocation, pattern: String, reason: String)
    /// A `flags:` entry is malformed.
    case badFlag(SourceLocation, message: String)
    /// Two rules share an id.
    case duplicateRuleID(SourceLocation, id: String, first: SourceLocation)
    /// `rules:` is an empty list.
    case emptyRules(SourceLocation)
    /// A rule's `match:` has no condition, so it would match every command.
    case emptyMatch(SourceLocation, rule: String)
    /// A value is out of range or otherwise unusable.
    case invalidValue(SourceLocation, key: String, message: String)
    /// Several errors, in file order.
    case several([PolicyError])

    /// Where the (first) error is.
    public var location: SourceLocation? {
        switch self {
        case .unreadable: return nil
        case .syntax(let l, _), .unknownKey(let l, _, _, _), .duplicateKey(let l, _), .wrongType(let l, _, _, _),
            .missingKey(let l, _, _, _), .unsupportedVersion(let l, _), .unknownAction(let l, _, _),
            .unknownSeverity(let l, _), .unknownMode(let l, _), .badGlob(let l, _, _), .badRegex(let l, _, _),
            .badFlag(let l, _), .duplicateRuleID(let l, _, _), .emptyRules(let l), .emptyMatch(let l, _),
            .invalidValue(let l, _, _):
            return l
        case .several(let all): return all.first?.location
        }
    }

    /// The errors one by one (a `several` flattened).
    public var all: [PolicyError] {
        if case .several(let list) = self { return list.flatMap(\.all) }
        return [self]
    }

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return
                "\(file): cannot read the policy: \(reason). Pass an existing YAML file with --policy, or omit it to use the embedded default."
        case .syntax(let l, let message):
            return
                "\(l): not valid YAML: \(message). Fix the indentation or quoting at that place; quote values that contain ': ' or start with '*', '&', '!', '{' or '['."
        case .unknownKey(let l, let key, let context, let allowed):
            let hint = PolicyError.closest(key, in: allowed).map { "did you mean '\($0)'? " } ?? ""
            return
                "\(l): unknown key '\(key)' in \(context); \(hint)\(context) takes: \(allowed.joined(separator: ", "))."
        case .duplicateKey(let l, let key):
            return
                "\(l): key '\(key)' appears twice in the same mapping; keep one (for several values write a list: \(key): [a, b])."
        case .wrongType(let l, let key, let expected, let example):
            return "\(l): '\(key)' must be \(expected); write for example \(example)."
        case .missingKey(let l, let key, let context, let example):
            return "\(l): \(context) needs '\(key)'; add for example \(example)."
        case .unsupportedVersion(let l, let found):
            return "\(l): unsupported policy version '\(found)'; this claude-guard reads version 1: write 'version: 1'."
        case .unknownAction(let l, let found, let allowed):
            let hint = PolicyError.closest(found, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
            return "\(l): unknown action '\(found)'\(hint); write one of: \(allowed.joined(separator: ", "))."
        case .unknownSeverity(let l, let found):
            let all = Severity.allCases.map(\.rawValue)
            let hint = PolicyError.closest(found, in: all).map { " (did you mean '\($0)'?)" } ?? ""
            return "\(l): unknown severity '\(found)'\(hint); write one of: \(all.joined(separator: ", "))."
        case .unknownMode(let l, let found):
            return
                "\(l): unknown mode '\(found)'; write 'mode: enforce' (act on violations) or 'mode: audit' (only record them)."
        case .badGlob(let l, let pattern, let reason):
            return "\(l): bad glob '\(pattern)': \(reason)."
        case .badRegex(let l, let pattern, let reason):
            return
                "\(l): bad regular expression '\(pattern)': \(reason); escape special characters with '\\' (in YAML single quotes: '\\.'), or use cmdline: with a glob."
        case .badFlag(let l, let message):
            return "\(l): \(message)."
        case .duplicateRuleID(let l, let id, let first):
            return
                "\(l): rule id '\(id)' is already used at line \(first.line); give every rule its own id, e.g. '\(id)-2'."
        case .emptyRules(let l):
            return
                "\(l): 'rules' is empty; add at least one rule, e.g. - { id: rm-rf, match: { command: rm, flags: [r|R|recursive, f|force] }, action: kill }."
        case .emptyMatch(let l, let rule):
            return
                "\(l): rule '\(rule)' has an empty 'match', which would match every command; give it a condition such as command: NAME (use 'default:' to act on every command)."
        case .invalidValue(let l, let key, let message):
            return "\(l): bad value for '\(key)': \(message)."
        case .several(let all):
            return all.map(\.description).joined(separator: "\n")
        }
    }

    /// The allowed word nearest to `word` by edit distance, if near enough to be a likely typo.
    static func closest(_ word: String, in candidates: [String]) -> String? {
        var best: (String, Int)?
        let a = Array(word.lowercased().utf8)
        for c in candidates {
            let b = Array(c.utf8)
            var prev = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var cur = [i] + Array(repeating: 0, count: b.count)
                for j in 1...max(b.count, 1) where !b.isEmpty {
                    cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                }
                prev = cur
            }
            let d = prev[b.count]
            if d <= Swift.max(1, b.count / 3), d < best?.1 ?? Int.max { best = (c, d) }
        }
        return best?.0
    }
}
