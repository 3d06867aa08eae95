import Foundation
import XCTest

/// README.md matches the binary flag for flag (issue 14 point 16): every command and every option the argument
/// parser shows (`--experimental-dump-help`) is written in README.md as code, and README names no long option
/// the binary does not have.
final class ReadmeFlagsTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every word of every `code` span and indented line of README.md.
    static func codeWords(_ text: String) -> Set<String> {
        var spans: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where line.hasPrefix("    ") {
            spans.append(line)
        }
        let parts = text.split(separator: "`", omittingEmptySubsequences: false)
        for (i, p) in parts.enumerated() where i % 2 == 1 { spans.append(p) }
        var words: Set<String> = []
        for span in spans {
            for w in span.split(whereSeparator: { " \t,|[]()=<>…\"'".contains($0) }) {
                words.insert(String(w.hasSuffix(":") ? w.dropLast() : w))
            }
        }
        return words
    }

    func testEveryCommandAndOptionOfTheBinaryIsInTheReadme() throws {
        guard FileManager.default.isExecutableFile(atPath: Guard.binary) else {
            throw XCTSkip("claude-guard is not built at \(Guard.binary)")
        }
        let dump = try Guard.run(["--experimental-dump-help"])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: dump.stdoutData) as? [String: Any])
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let words = Self.codeWords(readme)
        var missing: [String] = []
        var longs: Set<String> = []
        func walk(_ command: [String: Any], path: [String]) {
            let name = path.joined(separator: " ")
            if path.count > 1, let last = path.last, last != "help", !words.contains(last) {
                missing.append("command `\(name)`")
            }
            for arg in command["arguments"] as? [[String: Any]] ?? [] where arg["shouldDisplay"] as? Bool != false {
                for n in arg["names"] as? [[String: Any]] ?? [] {
                    guard let kind = n["kind"] as? String, let text = n["name"] as? String else { continue }
                    let flag = (kind == "short" ? "-" : "--") + text
                    if kind != "short" { longs.insert(flag) }
                    if ["-h", "--help", "--version"].contains(flag) && path.count > 1 { continue }
                    if !words.contains(flag) { missing.append("\(name) \(flag)") }
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                walk(sub, path: path + [(sub["commandName"] as? String) ?? "?"])
            }
        }
        walk(try XCTUnwrap(json["command"] as? [String: Any]), path: ["claude-guard"])
        XCTAssertEqual(missing, [], "README.md does not document these")
        // And no long option of claude-guard in README that the binary lacks (other tools' options excepted).
        let others: Set<String> = [
            "--recursive", "--force", "--rec", "--forc", "--signal", "--sig", "--max-lines", "--interactive",
            "--generate-completion-script", "--experimental-dump-help", "--allowedTools", "--mirror",
            "--force-with-lease", "--hard", "--upload-file", "--post-file", "--argv0", "--emulate", "--rcfile",
            "--data-ascii", "--global", "--library-path", "--preload", "--foreground", "--norc", "--noediting",
        ]
        let unknown = words.filter {
            $0.hasPrefix("--") && $0.count > 2 && !longs.contains($0) && !others.contains($0)
                && $0.dropFirst(2).allSatisfy { $0.isLetter || $0 == "-" }
        }
        XCTAssertEqual(unknown.sorted(), [], "README.md names options claude-guard does not have")
    }
}
