import Foundation
import XCTest

@testable import GuardCore

/// Each shell's option grammar as the evaluator reads it (`OptionSyntax` of bash, dash, zsh, busybox sh), tried
/// against the real shell: for every argv below, what the shell really runs — the word given as command text,
/// its standard input, a script file, or nothing (an error) — must be what `Wrappers.unwrap` says it runs.
/// Where the real shell refuses the options and runs nothing, the evaluator may judge more, never less.
final class ShellGrammarTests: XCTestCase {
    /// What a shell ran: the command text at this argv index, its standard input, a script file, or nothing.
    enum Ran: Equatable, CustomStringConvertible {
        case command(Int), stdin, file, nothing
        var description: String {
            switch self {
            case .command(let k): return "the command text argv[\(k)]"
            case .stdin: return "its standard input"
            case .file: return "a script file"
            case .nothing: return "nothing"
            }
        }
    }

    /// Argv after the shell's name. `W<k>` stands for `echo W<k>` (at argv index k), `SCRIPT` for a script file
    /// printing FILE.
    static let cases: [[String]] = [
        ["-c", "W2"], ["-ec", "W2"], ["-c", "-e", "W3"], ["-c", "-x", "--", "W4"], ["-o", "errexit", "-c", "W4"],
        ["+o", "errexit", "-c", "W4"], ["-oe", "errexit", "-c", "W4"], ["-co", "errexit", "W3"],
        ["-oerrexit", "-c", "W3"], ["-oo", "errexit", "nounset", "-c", "W5"], ["+c", "W2"], ["+ec", "W2"],
        ["--", "-c", "W3"], ["-", "-c", "W3"], ["-c", "--", "W3"], ["-c", "-", "W3"], ["SCRIPT", "-c", "W3"],
        ["-e", "SCRIPT", "-c", "W4"], ["-s", "-c", "W3"], ["-c", "-s", "W3"], ["-s", "W2"], ["-s"], [], ["-e"],
        ["-s", "--", "W3"], ["+s", "W2"], ["-c"], ["-l", "-c", "W3"], ["-O", "extglob", "-c", "W4"],
        ["+O", "extglob", "-c", "W4"], ["--rcfile", "/dev/null", "-c", "W4"], ["--norc", "-c", "W3"],
        ["--login", "-c", "W3"], ["-e", "--norc", "-c", "W4"], ["--emulate", "sh", "-c", "W4"],
        ["-c", "W2", "SCRIPT", "-c", "W5"], ["-x", "-c", "W3", "arg0"],
    ]

    /// (command to run the shell, the evaluator's name for it)
    static let shells: [(argv: [String], name: String)] = [
        (["/bin/bash"], "bash"), (["/bin/dash"], "dash"), (["/usr/bin/zsh", "-f"], "zsh"),
        (["/bin/busybox", "sh"], "ash"),
    ]

    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cg-grammar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "echo FILE\n".write(to: dir.appendingPathComponent("SCRIPT"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func testEveryShellsOptionsReadAsTheRealShellReadsThem() throws {
        var tried = 0
        for shell in Self.shells {
            guard FileManager.default.isExecutableFile(atPath: shell.argv[0]) else {
                // CI installs every one of them (Makefile); a developer machine may lack zsh.
                print("ShellGrammarTests: \(shell.argv[0]) is not installed, not tried")
                continue
            }
            for tail in Self.cases {
                // zsh -f: no startup files (the tail is the same words after it).
                let words = tail.enumerated().map { (k, w) in
                    w.hasPrefix("W") && w.count <= 3 ? "echo W\(k + 1)" : w
                }
                let real = try run(shell.argv + words)
                let model = modelRan([shell.name] + words)
                tried += 1
                if real == .nothing { continue }  // a refused option: judging more is allowed
                XCTAssertEqual(model, real, "\(shell.argv.joined(separator: " ")) \(tail): the shell ran \(real)")
            }
        }
        XCTAssertGreaterThan(tried, 0)
    }

    /// What `Wrappers.unwrap` says the shell runs.
    func modelRan(_ argv: [String]) -> Ran {
        let payloads = Wrappers.unwrap(
            names: [argv[0]], argv: argv, unknown: [], stdin: Stdin(text: "echo STDIN"))
        guard case .script(let text, _)? = payloads.first else { return payloads.isEmpty ? .file : .nothing }
        if text == "echo STDIN" { return .stdin }
        if text.hasPrefix("echo W"), let k = Int(text.dropFirst(6)) { return .command(k) }
        return .nothing
    }

    /// Runs the real shell with `echo STDIN` on its standard input, in the directory holding SCRIPT.
    func run(_ argv: [String]) throws -> Ran {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        p.currentDirectoryURL = dir
        p.environment = ["PATH": "/usr/bin:/bin", "HOME": dir.path]
        // Standard input from a file, not a pipe: a shell that never reads it must not make the writer die.
        let stdinPath = dir.appendingPathComponent("stdin").path
        try "echo STDIN\n".write(toFile: stdinPath, atomically: true, encoding: .utf8)
        let output = Pipe()
        p.standardInput = FileHandle(forReadingAtPath: stdinPath)
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(10)
        while p.isRunning && Date() < deadline { usleep(2000) }
        if p.isRunning {
            p.terminate()
            XCTFail("\(argv) did not finish")
        }
        p.waitUntilExit()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // `echo W<k>` printed W<k>: k is its index in the argv the model sees (the shell's name first).
        if let line = out.split(separator: "\n").first(where: { $0.hasPrefix("W") }), let k = Int(line.dropFirst()) {
            return .command(k)
        }
        if out.contains("FILE") { return .file }
        if out.contains("STDIN") { return .stdin }
        return .nothing
    }
}
