import Foundation
import XCTest

@testable import GuardCore

/// The engine's shortcuts give the answers of the plain path: a parse into reused storage equals a fresh parse, a
/// long-lived evaluator with its name cache (as `check --file` runs one) judges every line as a fresh evaluator
/// does, and literal path prefixes compared as bytes agree with the general test.
final class EngineReuseTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The shfmt corpus, then every line with its neighbours swapped in between (long after short, nested after
    /// flat), so that reused storage is seen with every shape of leftover.
    static func corpusLines() throws -> [String] {
        let text = try String(
            contentsOf: root.appendingPathComponent("Tests/Fixtures/shell-corpus.txt"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        return lines + lines.reversed() + [
            "a | b | c; d && e || f &", "x", "sh -c 'bash -c \"sh -c \\\"rm -rf /\\\"\"'", "echo $(", "y",
            "cat <<EOF\n$(rm -rf /)\nEOF", "z", "for f in *; do rm -rf \"$f\"; done", "",
        ]
    }

    func testParseIntoReusedStorageEqualsAFreshParse() throws {
        var reused = ShellScript()
        for line in try Self.corpusLines() {
            var copy = line
            copy.withUTF8 { ShellParser.parse($0, into: &reused) }
            XCTAssertEqual(reused, ShellScript.parse(line), line)
        }
    }

    /// Every shipped policy and one whose default is not allow (so commands no rule names are judged by the
    /// default on the shortcut that builds no context).
    static func policies() throws -> [Policy] {
        var out: [Policy] = []
        for name in ["strict", "default", "audit", "ci"] {
            out.append(try Policy.load(path: root.appendingPathComponent("policies/\(name).yaml").path))
        }
        out.append(
            try Policy.load(
                yaml: """
                    version: 1
                    default: alert
                    rules:
                      - id: git-ok
                        match: { command: git, args: [status] }
                        action: allow
                      - id: no-rm
                        match: { command: rm, flags: [r] }
                        action: kill
                    """, file: "alert-default.yaml"))
        return out
    }

    func testALongLivedEvaluatorJudgesEveryLineAsAFreshOneDoes() throws {
        let lines = try Self.corpusLines()
        for policy in try Self.policies() {
            let template = ExecContext(
                argv: [], path: "", cwd: "/home/agent/project", uid: 1000, workspace: "/home/agent/project")
            var evaluator = Evaluator(policy: policy, cache: ResolveCache())
            for line in lines {
                let kept = policy.evaluate(commandLine: line, template: template, evaluator: &evaluator)
                let fresh = policy.evaluate(
                    commandLine: line, cwd: "/home/agent/project", workspace: "/home/agent/project", uid: 1000)
                XCTAssertEqual(kept, fresh, "\(policy.name): \(line)")
            }
        }
    }

    /// The live guard's `ExecJudge` keeps one evaluator (parse buffers, name cache) across execs: every exec gets
    /// the verdict a fresh evaluation gives, for Claude Code's `bash -c -l` payload of each corpus line and for the
    /// line's words as a plain argv, known by identity or not.
    func testAJudgeKeptAcrossExecsJudgesEveryExecAsAFreshEvaluationDoes() throws {
        let lines = try Self.corpusLines()
        let ws = "/home/agent/project"
        for policy in try Self.policies() {
            let judge = ExecJudge(policy: policy)
            let parent = ExecContext(
                argv: ["node", "/usr/local/bin/claude"], path: "/usr/bin/node", cwd: ws, uid: 1000)
            for (n, line) in lines.enumerated() {
                let quoted = line.replacingOccurrences(of: "'", with: "'\\''")
                let payload = ExecContext(
                    argv: [
                        "/bin/bash", "-c", "-l",
                        "source /tmp/snapshot.sh && eval '\(quoted)' \\< /dev/null && pwd -P >| /tmp/cwd",
                    ],
                    path: "/usr/bin/bash", filename: "/bin/bash", cwd: ws, uid: 1000,
                    identities: n % 2 == 0 ? ["bash"] : [], parent: parent, workspace: ws)
                let words = line.split(separator: " ").map(String.init)
                guard let first = words.first else { continue }
                let plain = ExecContext(
                    argv: words, path: Paths.resolve(first, cwd: ws).real, cwd: ws, uid: 1000,
                    identities: n % 3 == 0 ? [Paths.basename(first)] : [], parent: parent, workspace: ws)
                for ctx in [payload, plain] {
                    XCTAssertEqual(judge.evaluate(ctx), policy.evaluate(ctx), "\(policy.name): \(ctx.argv)")
                }
            }
        }
    }

    func testByteLevelPathPrefixesAgreeWithTheGeneralTest() {
        var rng = ShellFuzzTests.Rng(state: 7)
        let parts = ["", "a", "b", "src", "build", "..", ".", "x.y", "node_modules", "home", "agent"]
        func path() -> String {
            var p = ""
            for _ in 0..<(1 + rng.int(4)) { p += "/" + parts[rng.int(parts.count)] }
            return p
        }
        var compared = 0
        for _ in 0..<20_000 {
            let relative = rng.int(2) == 0
            let rest = rng.int(4) == 0 ? "" : path()
            let literal = rest.isEmpty ? "" : Paths.normalize(rest)
            let pattern = PathPattern(
                workspaceRelative: relative, literal: literal, glob: nil,
                written: (relative ? "${workspace}" : "") + rest)
            let target = Paths.normalize(path())
            let workspace: String? = rng.int(5) == 0 ? nil : (rng.int(4) == 0 ? "/" : Paths.normalize(path()))
            let general = pattern.contains(target, workspace: workspace)
            let fast = Paths.withBytes(target) { t -> Bool?? in
                guard let workspace else { return .some(pattern.contains(ascii: t, workspace: nil)) }
                return Paths.withBytes(workspace) { w in .some(pattern.contains(ascii: t, workspace: w)) }
            }
            guard case .some(.some(let byBytes)) = fast else { continue }
            XCTAssertEqual(byBytes, general, "\(pattern.written) ~ \(target) in \(workspace ?? "no workspace")")
            compared += 1
        }
        XCTAssertGreaterThan(compared, 10_000, "the byte-level test declined too many cases to say anything")
    }
}
