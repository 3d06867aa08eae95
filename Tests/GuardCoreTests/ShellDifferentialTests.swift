import Foundation
import XCTest

@testable import GuardCore

/// Differential test against shfmt (mvdan/sh): for each of the ≥2,000 command lines in
/// `Tests/Fixtures/shell-corpus.txt` (real-world agent and shell one-liners plus generated combinations of every
/// supported construct; rebuild it with `make_shell_corpus.py`), the simple commands our parser extracts — their
/// argv after quote removal, unknown words as unknown — equal the `CallExpr` nodes of shfmt's AST.
final class ShellDifferentialTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// Declaration and `let` builtins are not `CallExpr` in shfmt's AST.
    static let declarations: Set<String> = ["export", "local", "declare", "readonly", "typeset", "nameref", "let"]

    static func findShfmt() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/shfmt"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    func testCommandWordsMatchShfmtOnCorpus() throws {
        guard let shfmt = Self.findShfmt() else { throw XCTSkip("shfmt is not installed (apt-get install shfmt)") }
        let corpus = try String(contentsOf: Self.fixtures.appendingPathComponent("shell-corpus.txt"), encoding: .utf8)
        let entries = corpus.split(separator: "\n").map { $0.replacingOccurrences(of: "\u{2424}", with: "\n") }
        XCTAssertGreaterThanOrEqual(entries.count, 2000)

        // One shfmt run over all entries, one per line (or several lines for here-documents).
        let joined = entries.joined(separator: "\n") + "\n"
        var startLines: [Int] = []
        var line = 1
        for e in entries {
            startLines.append(line)
            line += e.utf8.filter { $0 == 0x0A }.count + 1
        }
        let json = try Self.run(shfmt, ["-ln", "bash", "--to-json"], input: Data(joined.utf8))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let stmts = root["Stmts"] as? [[String: Any]] ?? []
        let source = Array(joined.utf8)

        var expected = [[String]](repeating: [], count: entries.count)
        for stmt in stmts {
            let pos = (stmt["Pos"] as? [String: Any])?["Line"] as? Int ?? 0
            var k = startLines.count - 1
            while k > 0 && startLines[k] > pos { k -= 1 }
            var calls: [[String?]] = []
            Self.collectCalls(stmt, source: source, into: &calls)
            expected[k].append(contentsOf: calls.map(Self.key))
        }

        var failures = 0
        var compared = 0
        for (k, entry) in entries.enumerated() {
            let s = ShellScript.parse(entry)
            if let e = s.error {
                failures += 1
                if failures <= 20 { XCTFail("we reject what shfmt accepts: \(entry.debugDescription): \(e)") }
                continue
            }
            let ours = s.commands.filter { c in
                if c.words.isEmpty && c.assignments.isEmpty { return false }
                if let f = c.words.first, f.isKnown, Self.declarations.contains(f.text) { return false }
                return true
            }.map { c in Self.key(c.words.map(\.value)) }
            compared += ours.count
            if ours.sorted() != expected[k].sorted() {
                failures += 1
                if failures <= 20 {
                    XCTFail("\(entry.debugDescription)\n  ours:  \(ours.sorted())\n  shfmt: \(expected[k].sorted())")
                }
            }
        }
        XCTAssertEqual(failures, 0, "\(failures) of \(entries.count) entries differ")
        XCTAssertGreaterThan(compared, entries.count)
    }

    // MARK: - shfmt AST

    static func key(_ argv: [String?]) -> String {
        argv.map { $0.map { "=" + $0 } ?? "?" }.joined(separator: "\u{0}")
    }

    /// Every `CallExpr` below `node`, as argv (nil for a word that is not a static literal).
    static func collectCalls(_ node: Any, source: [UInt8], into out: inout [[String?]]) {
        if let d = node as? [String: Any] {
            if d["Type"] as? String == "CallExpr" {
                let args = d["Args"] as? [[String: Any]] ?? []
                out.append(args.map { staticValue($0, source: source) })
            }
            for (k, v) in d where k != "Pos" && k != "End" { collectCalls(v, source: source, into: &out) }
        } else if let a = node as? [Any] {
            for v in a { collectCalls(v, source: source, into: &out) }
        }
    }

    /// The value of a word after quote removal, or nil if it needs expansion.
    static func staticValue(_ word: [String: Any], source: [UInt8]) -> String? {
        var out = ""
        for part in word["Parts"] as? [[String: Any]] ?? [] {
            switch part["Type"] as? String {
            case "Lit":
                out += unescape(part["Value"] as? String ?? "", inDouble: false)
            case "SglQuoted":
                let v = part["Value"] as? String ?? ""
                out += (part["Dollar"] as? Bool ?? false) ? ansiC(v) : v
            case "DblQuoted":
                for p in part["Parts"] as? [[String: Any]] ?? [] {
                    guard p["Type"] as? String == "Lit" else { return nil }
                    out += unescape(p["Value"] as? String ?? "", inDouble: true)
                }
            case "ExtGlob":
                guard let s = (part["Pos"] as? [String: Any])?["Offset"] as? Int,
                    let e = (part["End"] as? [String: Any])?["Offset"] as? Int
                else { return nil }
                out += String(decoding: source[s..<e], as: UTF8.self)
            default:
                return nil
            }
        }
        return out
    }

    static func unescape(_ s: String, inDouble: Bool) -> String {
        var out = ""
        var it = Array(s.unicodeScalars)[...]
        while let c = it.popFirst() {
            guard c == "\\", let n = it.first else {
                out.unicodeScalars.append(c)
                continue
            }
            if n == "\n" {
                it.removeFirst()
            } else if !inDouble || n == "$" || n == "`" || n == "\"" || n == "\\" {
                out.unicodeScalars.append(n)
                it.removeFirst()
            } else {
                out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Decodes bash `$'...'` escapes.
    static func ansiC(_ s: String) -> String {
        var bytes: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        func hex(_ c: UInt8) -> UInt32? {
            switch c {
            case 48...57: return UInt32(c - 48)
            case 97...102: return UInt32(c - 87)
            case 65...70: return UInt32(c - 55)
            default: return nil
            }
        }
        while i < b.count {
            guard b[i] == 92, i + 1 < b.count else {
                bytes.append(b[i])
                i += 1
                continue
            }
            let e = b[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "n"): bytes.append(10)
            case UInt8(ascii: "t"): bytes.append(9)
            case UInt8(ascii: "r"): bytes.append(13)
            case UInt8(ascii: "a"): bytes.append(7)
            case UInt8(ascii: "b"): bytes.append(8)
            case UInt8(ascii: "e"), UInt8(ascii: "E"): bytes.append(27)
            case UInt8(ascii: "f"): bytes.append(12)
            case UInt8(ascii: "v"): bytes.append(11)
            case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                let maxDigits = e == UInt8(ascii: "x") ? 2 : (e == UInt8(ascii: "u") ? 4 : 8)
                var v: UInt32 = 0
                var n = 0
                while n < maxDigits, i < b.count, let d = hex(b[i]) {
                    v = v * 16 + d
                    i += 1
                    n += 1
                }
                if e == UInt8(ascii: "x") {
                    bytes.append(UInt8(v))
                } else {
                    bytes.append(contentsOf: Array(String(UnicodeScalar(v)!).utf8))
                }
            case 48...55:
                var v = UInt32(e - 48)
                var n = 0
                while n < 2, i < b.count, (48...55).contains(b[i]) {
                    v = v * 8 + UInt32(b[i] - 48)
                    i += 1
                    n += 1
                }
                bytes.append(UInt8(v & 0xFF))
            case 92, 39, 34, 63: bytes.append(e)
            default:
                bytes.append(92)
                bytes.append(e)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func run(_ tool: String, _ args: [String], input: Data) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let inPipe = Pipe()
        let outPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        try p.run()
        let writer = Thread {
            inPipe.fileHandleForWriting.write(input)
            try? inPipe.fileHandleForWriting.close()
        }
        writer.start()
        let data = outPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NSError(
                domain: "shfmt", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "shfmt failed"])
        }
        return data
    }
}
