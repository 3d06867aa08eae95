import Foundation
import XCTest

@testable import GuardCore

/// A differential fuzz of the evaluator: random policies, working directories and workspaces, random commands,
/// and for each the verdict checked against what SPEC §3 says it must be, computed another way:
///
/// 1. First match: for one plain command, a policy's verdict is that of its first rule that matches on its own
///    (each rule alone in a policy of its own, default allow), else the policy's default.
/// 2. Strongest of a list: `A; B`, `A && B`, `A || B`, `A | B` and `bash -c 'A; B'` take the strongest action of
///    their commands (kill > stop > alert > allow).
/// 3. Spelling: the verdict does not depend on how the same command is written: its words quoted in any way,
///    a path operand as `x`, `./x` or absolute from the working directory, short flags bundled or not.
/// 4. Wrappers: run through `bash -c`, `sh -c`, `env`, `nohup`, `timeout 5`, `nice`, `command` or `exec`, a
///    command keeps its verdict, but for the wrapper's own: the wrapper is a command too, and no rule names it,
///    so it gets the default (the strongest of the two decides, as in 2).
///
/// Rules use command, flags and paths only: `args`, `cmdline` and `regex` match the literal text, which (3)
/// changes on purpose. Runs one fixed seed and one new seed per run; both are printed, and
/// CLAUDE_GUARD_FUZZ_SEED=N replays a seed.
final class EvaluatorDifferentialTests: XCTestCase {
    typealias Rng = ShellFuzzTests.Rng

    /// Policies per seed, commands per policy.
    static let policies = 150
    static let commands = 12

    static let programs = ["rm", "cp", "mv", "chmod", "git", "cat", "ls", "touch", "mkdir", "find"]
    /// Flags of programs whose flags take no value (so bundling them changes nothing).
    static let flagsOf: [String: [(short: Character, long: String)]] = [
        "rm": [("r", "recursive"), ("f", "force"), ("v", "verbose"), ("i", "interactive")],
        "cp": [("r", "recursive"), ("f", "force"), ("v", "verbose"), ("p", "preserve")],
        "mv": [("f", "force"), ("v", "verbose"), ("n", "no-clobber")],
        "chmod": [("R", "recursive"), ("v", "verbose"), ("f", "silent")],
        "ls": [("l", "long"), ("a", "all"), ("R", "recursive")],
        "touch": [("c", "no-create"), ("a", "atime")],
        "mkdir": [("p", "parents"), ("v", "verbose")],
    ]
    static let ruleFlags = ["r|R|recursive", "f|force", "v|verbose", "i|interactive", "p|parents", "l"]
    static let ruleTrees = ["${workspace}", "${workspace}/build/*", "/tmp/*", "~/.ssh/*", "/etc/*", "/srv/data"]
    static let workspaces = ["/home/agent/project", "/srv/work/app", "/tmp/ws"]
    static let operands = [
        "x", "build/out.o", "src/main.c", "../sibling/file", "/etc/passwd", "/tmp/scratch", "~/.ssh/id_rsa",
        "/srv/data/db", "build", ".", "..", "notes.txt",
    ]
    static let actions: [Action] = [.allow, .alert, .stop, .kill]

    /// One generated rule, as YAML and as the facts the tests need.
    struct Rule {
        var id: String
        var yaml: String
        var action: Action
    }

    func testVerdictsAgreeWithTheSpecOnFixedAndNewSeeds() throws {
        var seeds: [UInt64] = [0x5EED_0001]
        if let replay = ProcessInfo.processInfo.environment["CLAUDE_GUARD_FUZZ_SEED"].flatMap({ UInt64($0) }) {
            seeds = [replay]
        } else {
            seeds.append(UInt64.random(in: 1...UInt64.max))
        }
        for seed in seeds {
            print("EvaluatorDifferentialTests: seed \(seed) (replay: CLAUDE_GUARD_FUZZ_SEED=\(seed))")
            try run(seed: seed)
        }
    }

    func run(seed: UInt64) throws {
        var rng = Rng(state: seed)
        var checked = 0
        for p in 0..<Self.policies {
            let rules = (0..<(1 + rng.int(6))).map { makeRule(&rng, id: "r\($0)") }
            let defaultAction = Self.actions[rng.int(2) == 0 ? 0 : rng.int(4)]
            let policy = try load(rules, default: defaultAction)
            let alone = try rules.map { try load([$0], default: .allow) }
            let workspace = Self.workspaces[rng.int(Self.workspaces.count)]
            let cwd = [workspace, workspace + "/src", "/tmp", "/"][rng.int(4)]
            let context =
                "seed \(seed), policy \(p) (default \(defaultAction)):\n\(yaml(rules, default: defaultAction))cwd \(cwd), workspace \(workspace)"
            func judge(_ pol: Policy, _ line: String) -> Verdict {
                pol.evaluate(commandLine: line, cwd: cwd, workspace: workspace, uid: 1000)
            }
            for _ in 0..<Self.commands {
                let argv = makeCommand(&rng)
                let line = shellJoin(argv)
                let v = judge(policy, line)
                // 1. First match. A move into a tree where deletes are allowed is judged as the delete it enables
                // (which depends on the allow rules, not on one rule alone): never weaker than its first match.
                let first = rules.indices.first(where: { judge(alone[$0], line).rule == rules[$0].id })
                if argv.first == "mv" && policy.judgesMoves
                    && v.matched?.contains("(moving into a tree where deletes are allowed") == true
                {
                    XCTAssertGreaterThanOrEqual(
                        v.action, first.map { rules[$0].action } ?? defaultAction, "\(line)\n\(context)")
                } else if let first {
                    XCTAssertEqual(v.action, rules[first].action, "\(line)\n\(context)")
                    XCTAssertEqual(v.rule, rules[first].id, "\(line)\n\(context)")
                } else {
                    XCTAssertEqual(v.action, defaultAction, "\(line)\n\(context)")
                    XCTAssertNil(v.rule, "\(line)\n\(context)")
                }
                // 3. Spelling.
                for other in respell(argv, cwd: cwd) {
                    let w = judge(policy, other)
                    XCTAssertEqual(w.action, v.action, "\(line) vs \(other)\n\(context)")
                    XCTAssertEqual(w.rule, v.rule, "\(line) vs \(other)\n\(context)")
                }
                // 4. Wrappers.
                for wrapped in wrap(line, &rng) {
                    let w = judge(policy, wrapped)
                    XCTAssertEqual(w.action, max(v.action, defaultAction), "\(line) vs \(wrapped)\n\(context)")
                    if v.action > defaultAction {
                        XCTAssertEqual(w.rule, v.rule, "\(line) vs \(wrapped)\n\(context)")
                    }
                }
                // 2. Strongest of a list.
                let second = shellJoin(makeCommand(&rng))
                let strongest = max(v.action, judge(policy, second).action)
                for joined in [
                    "\(line); \(second)", "\(line) && \(second)", "\(line) || \(second)", "\(line) | \(second)",
                ] {
                    XCTAssertEqual(judge(policy, joined).action, strongest, "\(joined)\n\(context)")
                }
                let shell = "bash -c \(shellQuote(line + "; " + second))"
                XCTAssertEqual(judge(policy, shell).action, max(strongest, defaultAction), "\(shell)\n\(context)")
                checked += 1
            }
        }
        XCTAssertEqual(checked, Self.policies * Self.commands)
    }

    func makeRule(_ rng: inout Rng, id: String) -> Rule {
        var keys: [String] = []
        let names = (0..<(1 + rng.int(2))).map { _ in Self.programs[rng.int(Self.programs.count)] }
        // Always a program: a rule without one could match a wrapper or shell directly, which (3) spells in.
        keys.append("command: [\(names.joined(separator: ", "))]")
        if rng.int(2) == 0 {
            let flags = (0..<(1 + rng.int(2))).map { _ in Self.ruleFlags[rng.int(Self.ruleFlags.count)] }
            keys.append("flags: [\(Array(Set(flags)).sorted().map { "'\($0)'" }.joined(separator: ", "))]")
        }
        if rng.int(2) == 0 {
            let trees = (0..<(1 + rng.int(2))).map { _ in Self.ruleTrees[rng.int(Self.ruleTrees.count)] }
            let side = rng.int(2) == 0 ? "under" : "outside"
            keys.append("paths: { \(side): [\(trees.map { "'\($0)'" }.joined(separator: ", "))] }")
        }
        let action = Self.actions[rng.int(Self.actions.count)]
        let body = keys.map { "          \($0)\n" }.joined()
        return Rule(
            id: id, yaml: "      - id: \(id)\n        match:\n\(body)        action: \(action)\n", action: action)
    }

    func yaml(_ rules: [Rule], default action: Action) -> String {
        "version: 1\nname: fuzz\ndefault: \(action)\nrules:\n" + rules.map(\.yaml).joined()
    }

    func load(_ rules: [Rule], default action: Action) throws -> Policy {
        try Policy.load(yaml: yaml(rules, default: action), file: "fuzz.yaml")
    }

    /// A plain command: a program, some of its flags (bundled or not), some operands.
    func makeCommand(_ rng: inout Rng) -> [String] {
        let program = Self.programs[rng.int(Self.programs.count)]
        var argv = [program]
        if let flags = Self.flagsOf[program], rng.int(3) != 0 {
            let picked = (0..<(1 + rng.int(3))).map { _ in flags[rng.int(flags.count)].short }
            argv.append("-" + String(picked))
        }
        if program == "git" { argv.append(["status", "push", "clean", "log"][rng.int(4)]) }
        for _ in 0..<rng.int(3) { argv.append(Self.operands[rng.int(Self.operands.count)]) }
        return argv
    }

    /// The same command spelled other ways (SPEC §3: quoting, paths resolved against the working directory,
    /// bundled short flags).
    func respell(_ argv: [String], cwd: String) -> [String] {
        var out: [String] = []
        // Every word quoted: single quotes, double quotes, or each character escaped (but a leading `~`, which
        // quoted is a file named ~, not the home directory).
        func quoted(_ q: (String) -> String) -> String {
            argv.map { $0.hasPrefix("~") ? $0 : q($0) }.joined(separator: " ")
        }
        out.append(quoted { "'\($0)'" })
        out.append(quoted { "\"\($0)\"" })
        out.append(quoted { $0.map { "\\\($0)" }.joined() })
        // Relative operands as ./x and as absolute paths from the working directory.
        func operands(_ f: (String) -> String) -> [String] {
            [argv[0]]
                + argv.dropFirst().map { w in
                    w.hasPrefix("-") || w.hasPrefix("/") || w.hasPrefix("~") || (argv[0] == "git" && w == argv[1])
                        ? w : f(w)
                }
        }
        out.append(shellJoin(operands { "./" + $0 }))
        out.append(shellJoin(operands { (cwd == "/" ? "" : cwd) + "/" + $0 }))
        // Short flags one by one, and in reverse order.
        if argv.count > 1, argv[1].hasPrefix("-"), !argv[1].hasPrefix("--"), Self.flagsOf[argv[0]] != nil {
            let letters = argv[1].dropFirst()
            out.append(shellJoin([argv[0]] + letters.map { "-\($0)" } + argv.dropFirst(2)))
            out.append(shellJoin([argv[0], "-" + String(letters.reversed())] + argv.dropFirst(2)))
        }
        return out
    }

    /// The command run through a wrapper and through shells (SPEC §3: wrappers are unwrapped, `-c` strings parsed).
    func wrap(_ line: String, _ rng: inout Rng) -> [String] {
        let wrapper = ["env", "nohup", "timeout 5", "nice", "command", "exec"][rng.int(6)]
        return ["\(wrapper) \(line)", "bash -c \(shellQuote(line))", "sh -c \(shellQuote(line))"]
    }
}
