import XCTest

@testable import GuardCore

/// `Policy.holdWords` (issue 19): the argv words without which the kernel passes a held program. Sound only if no
/// argv lacking every word can be stopped or killed by the evaluator: tried here on every argv of up to three
/// words from a vocabulary of the shipped rules' edges, under every shipped policy.
final class HoldWordsUnitTests: XCTestCase {
    func testGitIsHeldOnlyForItsRulesWordsAndAliasOptions() throws {
        let w = try XCTUnwrap(Policy.embeddedDefault.holdWords(path: "/usr/bin/git"))
        XCTAssertEqual(Set(w.words), ["-c", "push", "reset"])
        XCTAssertTrue(w.names.contains("git"))
        let strict = try Policy.load(path: Self.policies + "/strict.yaml")
        XCTAssertEqual(Set(try XCTUnwrap(strict.holdWords(path: "/usr/bin/git")).words),
                       ["-c", "push", "reset", "clean", "filter-branch"])
    }

    func testWhatArgvWordsCannotDecideKeepsEveryHold() throws {
        let d = Policy.embeddedDefault
        XCTAssertNil(d.holdWords(path: "/usr/bin/rm"), "flags and paths decide")
        XCTAssertNil(d.holdWords(path: "/usr/bin/bash"), "a shell's payload decides")
        XCTAssertNil(d.holdWords(path: "/usr/bin/env"), "a wrapper's payload decides")
        let p = try Policy.load(
            yaml: """
                version: 1
                name: t
                default: allow
                rules:
                  - { id: glob, match: { command: tool1, args: ['push*'] }, action: stop }
                  - { id: path, match: { command: tool2, args: [/etc/passwd] }, action: kill }
                  - { id: lit, match: { command: tool3, args: [deploy] }, action: stop }
                  - { id: any, match: { args: [wipe] }, action: kill }
                """, file: "t.yaml")
        XCTAssertNil(p.holdWords(path: "/usr/bin/tool1"), "a glob may match many words")
        XCTAssertNil(p.holdWords(path: "/usr/bin/tool2"), "a word with a / is matched as a path too")
        XCTAssertEqual(Set(try XCTUnwrap(p.holdWords(path: "/usr/bin/tool3")).words), ["deploy", "wipe"])
        XCTAssertEqual(try XCTUnwrap(p.holdWords(path: "/usr/bin/cat")).words, ["wipe"], "a rule naming no command")
        let stops = try Policy.load(yaml: """
                version: 1
                name: s
                default: stop
                rules: [{ id: lit, match: { command: git, args: [push] }, action: kill }]
                """, file: "s.yaml")
        XCTAssertNil(stops.holdWords(path: "/usr/bin/git"))
    }

    /// Every argv of up to three words from the vocabulary that has none of a program's hold words is judged below
    /// `stop` by the evaluator (what the kernel's pass claims).
    func testNoArgvWithoutTheWordsIsStoppedOrKilled() throws {
        let vocab = [
            "push", "reset", "clean", "-c", "--force", "-f", "--hard", "-fdx", "+main", ":main", "origin",
            "alias.x=!rm -rf /", "clean.requireForce=false", "publish", "filter-branch", "-d", "--mirror", "status",
        ]
        var checked = 0
        var actedWithWords = 0
        var argvs: [[String]] = [[]]
        var longest: [[String]] = [[]]
        for _ in 0..<3 {
            longest = longest.flatMap { a in vocab.map { a + [$0] } }
            argvs += longest
        }
        for file in ["default.yaml", "strict.yaml", "ci.yaml", "audit.yaml"] {
            let policy = try Policy.load(path: Self.policies + "/" + file)
            for program in ["git", "npm", "cargo", "docker", "kubectl", "terraform", "chmod", "curl"] {
                let path = "/usr/bin/" + program
                guard let w = policy.holdWords(path: path) else { continue }
                for rest in argvs {
                    let ctx = ExecContext(argv: [program] + rest, path: path, filename: path, cwd: "/home/agent/project",
                                          workspace: "/home/agent/project")
                    let v = policy.evaluate(ctx)
                    guard !rest.contains(where: w.words.contains) else {
                        if v.action >= .stop { actedWithWords += 1 }
                        continue
                    }
                    checked += 1
                    XCTAssertLessThan(v.action, .stop, "\(file): \(program) \(rest) passes in the kernel, \(v)")
                }
            }
        }
        XCTAssertGreaterThan(checked, 10_000, "git under default, strict and ci at least")
        XCTAssertGreaterThan(actedWithWords, 1_000, "the vocabulary reaches the rules (with their words)")
    }

    static let policies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("policies").path
}
