/// JUnit XML for CI systems: one test case per policy rule, failed when the rule was violated.
public enum JUnit {
    public static func render(policy: Policy, violations: [Violation], summary: Summary) -> String {
        var byRule: [String: [Violation]] = [:]
        for v in violations { byRule[v.rule, default: []].append(v) }
        var ids = policy.rules.map(\.id)
        for rule in byRule.keys.sorted() where !ids.contains(rule) { ids.append(rule) }
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites name=\"claude-guard\" tests=\"\(ids.count)\" failures=\"\(byRule.count)\">\n"
        x += "  <testsuite name=\"\(escape(policy.name))\" tests=\"\(ids.count)\" failures=\"\(byRule.count)\">\n"
        for id in ids {
            x += "    <testcase classname=\"claude-guard.\(escape(policy.name))\" name=\"\(escape(id))\""
            guard let vs = byRule[id] else {
                x += "/>\n"
                continue
            }
            x +=
                ">\n      <failure message=\"\(vs.count) violation(s) of \(escape(id))\" type=\"\(escape(vs[0].action))\">"
            x += vs.map { escape("[\($0.enforced)\($0.outcome.map { ", then " + $0 } ?? "")] \($0.matched)") }
                .joined(separator: "\n")
            x += "</failure>\n    </testcase>\n"
        }
        x += "  </testsuite>\n</testsuites>"
        return x
    }

    /// XML text escaping; control characters XML 1.0 cannot hold become U+FFFD.
    static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n", "\t": out.unicodeScalars.append(u)
            case _ where u.value < 0x20 || (0xFFFE...0xFFFF).contains(u.value): out += "\u{FFFD}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
