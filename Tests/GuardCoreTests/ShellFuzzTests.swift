import Foundation
import XCTest

@testable import GuardCore

/// Property and fuzz tests: the parser and the evaluator never crash or hang on any input, and quoting
/// round-trips: parsing `shellJoin(argv)` gives argv back. Their bound is the number of inputs, not a clock
/// (a shared machine makes wall-clock limits flaky); the parser's speed is measured in bench/.
final class ShellFuzzTests: XCTestCase {
    /// A small deterministic generator (SplitMix64), so failures reproduce.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static let shellAlphabet = Array(
        "ab rm-f/.$(){}[]<>|&;'\"`\\\n\t#=*?~!@%+,:^0123456789 if then fi do done case esac in for while << EOF".utf8)

    func testRandomShellTextNeverCrashesOrHangs() {
        var rng = Rng(state: 1)
        var errors = 0
        for _ in 0..<20_000 {
            let n = rng.int(120)
            var bytes: [UInt8] = []
            for _ in 0..<n {
                if rng.int(20) == 0 {
                    bytes.append(UInt8(truncatingIfNeeded: rng.next()))  // arbitrary bytes, invalid UTF-8 included
                } else {
                    bytes.append(Self.shellAlphabet[rng.int(Self.shellAlphabet.count)])
                }
            }
            let s = ShellScript.parse(bytes: bytes)
            if s.error != nil { errors += 1 }
            for c in s.commands { XCTAssertTrue(c.words.count <= bytes.count + 1) }
        }
        XCTAssertGreaterThan(errors, 0)
    }

    func testMutatedCorpusNeverCrashesTheEvaluator() throws {
        let corpus = try String(
            contentsOf: ShellDifferentialTests.fixtures.appendingPathComponent("shell-corpus.txt"), encoding: .utf8)
        let entries = corpus.split(separator: "\n").map { Array($0.utf8) }
        let policies = try ["default.yaml", "strict.yaml"].map {
            try Policy.load(path: PolicyShippedTests.policyPath($0))
        }
        var rng = Rng(state: 2)
        for i in 0..<6_000 {
            var e = entries[rng.int(entries.count)]
            for _ in 0..<(1 + rng.int(4)) {
                let at = e.isEmpty ? 0 : rng.int(e.count + 1)
                switch rng.int(3) {
                case 0: e.insert(Self.shellAlphabet[rng.int(Self.shellAlphabet.count)], at: at)
                case 1: if at < e.count { e.remove(at: at) }
                default: if !e.isEmpty { e.insert(contentsOf: e[rng.int(e.count)...].prefix(8), at: at) }
                }
            }
            let line = String(decoding: e, as: UTF8.self)
            func judge() -> Verdict {
                policies[i % 2].evaluate(commandLine: line, cwd: "/home/agent/project", workspace: "/home/agent/project")
            }
            let v = judge()
            // Nothing of one judgment carries into the next, and an action is always explained.
            XCTAssertEqual(judge(), v, line)
            if v.action != .allow { XCTAssertTrue(v.rule != nil || v.description != nil, "\(line) → \(v)") }
        }
    }

    func testPathologicalInputsAreBounded() {
        let cases: [String] = [
            String(repeating: "$(", count: 100_000),
            String(repeating: "`", count: 100_001),
            String(repeating: "'", count: 100_001),
            String(repeating: "\"$(", count: 30_000),
            String(repeating: "a|", count: 50_000) + "a",
            String(repeating: "if a; then ", count: 5_000),
            String(repeating: "${", count: 50_000),
            String(repeating: "<<EOF\n", count: 20_000),
            String(repeating: "\\", count: 100_001),
            String(repeating: "$((", count: 30_000),
            "cat <<EOF\n" + String(repeating: "$(ls)\n", count: 20_000) + "EOF",
        ]
        for text in cases {
            let s = ShellScript.parse(text)
            // An answer either way: an error, or commands (never more than the text has bytes).
            XCTAssertTrue(s.error != nil || !s.commands.isEmpty, String(text.prefix(20)))
            XCTAssertLessThanOrEqual(s.commands.count, text.utf8.count, String(text.prefix(20)))
        }
        // Deep wrapper nesting is bounded by the evaluator too.
        let line = String(repeating: "eval ", count: 200) + "rm -rf x"
        let v = PolicyEvaluationTests.policy.evaluate(commandLine: line, workspace: "/w")
        XCTAssertEqual(v.action, .stop)
        XCTAssertTrue(v.description?.contains("deeper than") ?? false, "\(v)")
        let shallow = PolicyEvaluationTests.policy.evaluate(
            commandLine: String(repeating: "eval ", count: 10) + "rm -rf x", workspace: "/w")
        XCTAssertEqual(shallow.action, .kill)
    }

    func testQuotingRoundTrips() {
        var rng = Rng(state: 3)
        let pieces: [String] = [
            "a", "Z", "0", " ", "'", "\"", "\\", "$", "`", "!", "*", "?", "[", "]", "{", "}", "(", ")", "<", ">", "|",
            "&", ";", "#", "~", "=", "\n", "\t", "é", "日本", "🙂", "$(rm -rf /)", "-rf", "--", "%", "^", ",",
        ]
        for _ in 0..<5_000 {
            var argv: [String] = []
            for _ in 0..<(1 + rng.int(5)) {
                var w = ""
                for _ in 0..<rng.int(8) { w += pieces[rng.int(pieces.count)] }
                argv.append(w)
            }
            let line = shellJoin(argv)
            let s = ShellScript.parse(line)
            XCTAssertNil(s.error, line)
            XCTAssertEqual(s.commands.count, 1, line)
            XCTAssertEqual(s.commands.first?.words.map(\.value), argv.map { Optional($0) }, line)
            XCTAssertEqual(s.commands.first?.assignments, [], line)
        }
    }
}
