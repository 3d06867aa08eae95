#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The logic of `claude-guard check`, `test` and `lint`: pure functions returning their output and exit code, so
/// that the CLI only prints and golden tests run in-process.
public enum PolicyTool {
    /// What a command prints and how it exits.
    public struct Output: Sendable, Equatable {
        public var stdout: String
        public var stderr: String
        public var exitCode: Int32

        public init(stdout: String = "", stderr: String = "", exitCode: Int32 = 0) {
            self.stdout = stdout
            self.stderr = stderr
            self.exitCode = exitCode
        }
    }

    /// Output format of `check`.
    public typealias Format = OutputFormat

    /// The workspace `test` uses when a test names none: a fixed path, so results do not depend on the machine.
    public static let testWorkspace = "/home/agent/project"

    /// Loads the policy at `path` (or the shipped policy of that name: `strict`), or the embedded default when
    /// `path` is nil.
    ///
    /// - Throws: `PolicyError` with file:line:column.
    public static func loadPolicy(_ path: String?) throws(PolicyError) -> Policy {
        try PolicyLocator.load(path)
    }

    /// The stderr paragraph and exit code 2 for a policy that does not load.
    public static func failure(_ error: PolicyError) -> Output {
        Output(stderr: "claude-guard: the policy is invalid:\n\(error.description)\n", exitCode: 2)
    }

    // MARK: - check

    /// `check -- CMD ARGS...`: judges one command given as argv (resolved over PATH like exec would).
    ///
    /// Exit 0 when allowed, 1 when the policy would act on it.
    /// With `explain`, the verdict line follows every rule tried on each command after unwrapping (text format).
    public static func check(
        policy: Policy, argv: [String], workspace: String?, cwd: String? = nil, format: Format = .text,
        explain: Bool = false
    ) -> Output {
        guard let name = argv.first else {
            return Output(stderr: "claude-guard check: give a command after '--', or --file FILE\n", exitCode: 2)
        }
        let dir = cwd ?? workspace ?? Paths.currentDirectory
        let r = Paths.resolve(name, cwd: dir)
        let ctx = ExecContext(
            argv: argv, path: r.real, filename: r.located, cwd: dir, uid: getuid(), workspace: workspace ?? dir)
        var why = ""
        let v: Verdict
        if explain {
            (why, v) = Explain.command(ctx, policy: policy)
        } else {
            // Paths as this process sees them (the text where they do not exist).
            v = policy.evaluate(ctx, paths: PathWalker(cwd: dir))
        }
        var out: [UInt8] = []
        render(v, line: shellJoin(argv), number: 1, format: format, into: &out)
        return Output(stdout: why + String(decoding: out, as: UTF8.self), exitCode: v.action == .allow ? 0 : 1)
    }

    /// `check --file FILE`: one shell command line per line, a verdict per non-empty, non-comment line.
    ///
    /// `write` receives the output in chunks (buffered, for speed); the return value is the exit code:
    /// 0 when every line is allowed, 1 otherwise. With `memo` (the default), a line seen before in this run is
    /// answered from its first verdict: every line runs with the same cwd, workspace, uid, HOME and PATH
    /// resolutions, so a verdict depends on nothing but the line's text. `memo: false` judges every line afresh
    /// (same output; for benchmarks).
    public static func checkLines(
        policy: Policy, text: UnsafeBufferPointer<UInt8>, workspace: String?, cwd: String? = nil,
        format: Format = .text, memo useMemo: Bool = true,
        write: (UnsafeBufferPointer<UInt8>) -> Void
    ) -> Int32 {
        let dir = cwd ?? workspace ?? Paths.currentDirectory
        let ws = workspace ?? dir
        let uid = getuid()
        let cache = ResolveCache()
        let template = ExecContext(argv: [], path: "", cwd: dir, uid: uid, workspace: ws)
        var evaluator = Evaluator(policy: policy, cache: cache)
        // Paths as this process sees them (the text where they do not exist).
        evaluator.resolver = PathWalker(cwd: dir)
        var memo = LineMemo()
        var out: [UInt8] = []
        out.reserveCapacity(1 << 17)
        var acted = false
        var number = 0
        var start = 0
        let n = text.count
        guard let base = text.baseAddress, n > 0 else { return 0 }
        while start < n {
            var end = start
            if let p = memchr(base + start, 0x0A, n - start) {
                end = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
            } else {
                end = n
            }
            number += 1
            var s = start
            var e = end
            if e > s && text[e - 1] == ASCII.cr { e -= 1 }
            while s < e && (text[s] == ASCII.space || text[s] == ASCII.tab) { s += 1 }
            if s < e && text[s] != ASCII.hash {
                let key = UnsafeBufferPointer(start: base + s, count: e - s)
                if format == .json { renderNumber(number, into: &out) }
                let h = useMemo ? LineMemo.hash(key) : 0
                if useMemo, let i = memo.find(key, hash: h) {
                    if memo.entries[i].acted { acted = true }
                    memo.appendOutput(i, into: &out)
                } else {
                    let mark = out.count
                    let line = String(decoding: key, as: UTF8.self)
                    let v = policy.evaluate(commandLine: line, template: template, evaluator: &evaluator)
                    if v.action != .allow { acted = true }
                    renderTail(v, line: line, format: format, into: &out)
                    if useMemo { memo.insert(key, hash: h, output: out, from: mark, acted: v.action != .allow) }
                }
                if out.count >= 1 << 16 {
                    out.withUnsafeBufferPointer(write)
                    out.removeAll(keepingCapacity: true)
                }
            }
            start = end + 1
        }
        if !out.isEmpty { out.withUnsafeBufferPointer(write) }
        return acted ? 1 : 0
    }

    /// `check --file` over a string, collecting the output (for tests).
    public static func checkLines(
        policy: Policy, text: String, workspace: String?, cwd: String? = nil, format: Format = .text,
        memo: Bool = true
    ) -> Output {
        var collected: [UInt8] = []
        var t = text
        let code = t.withUTF8 { buf in
            checkLines(
                policy: policy, text: buf, workspace: workspace, cwd: cwd, format: format, memo: memo
            ) {
                collected.append(contentsOf: $0)
            }
        }
        return Output(stdout: String(decoding: collected, as: UTF8.self), exitCode: code)
    }

    /// One verdict as a text line (`kill rm-rf (critical): rm -rf / [matched: ...]`) or a JSON object.
    static func render(_ v: Verdict, line: String, number: Int, format: Format, into out: inout [UInt8]) {
        if format == .json { renderNumber(number, into: &out) }
        renderTail(v, line: line, format: format, into: &out)
    }

    /// The start of a JSON verdict, up to its line number: the only part that is not a function of the line.
    static func renderNumber(_ number: Int, into out: inout [UInt8]) {
        out.append(contentsOf: "{\"line\":".utf8)
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var k = 20
        var v = UInt(number)
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                k -= 1
                d[k] = ASCII.zero + UInt8(v % 10)
                v /= 10
            } while v > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: d[k..<20]))
        }
    }

    /// A verdict after its JSON line number (the whole line in text format).
    static func renderTail(_ v: Verdict, line: String, format: Format, into out: inout [UInt8]) {
        switch format {
        case .text:
            appendBytes(v.action.rawValue, into: &out)
            if let rule = v.rule {
                out.append(ASCII.space)
                appendBytes(rule, into: &out)
                if v.action != .allow, let sev = v.severity {
                    out.append(ASCII.space)
                    out.append(ASCII.leftParenthesis)
                    appendBytes(sev.rawValue, into: &out)
                    out.append(ASCII.rightParenthesis)
                }
            }
            out.append(ASCII.colon)
            out.append(ASCII.space)
            appendPrintable(line, into: &out)
            if v.action != .allow, let m = v.matched, m != line {
                out.append(contentsOf: " [matched: ".utf8)
                appendPrintable(m, into: &out)
                out.append(ASCII.rightBracket)
            }
            if v.action != .allow, v.rule == nil, let d = v.description {
                out.append(contentsOf: " [".utf8)
                appendPrintable(d, into: &out)
                out.append(ASCII.rightBracket)
            }
            out.append(ASCII.lf)
        case .json:
            out.append(contentsOf: ",\"command\":".utf8)
            appendJSONString(line, into: &out)
            out.append(contentsOf: ",\"action\":\"".utf8)
            out.append(contentsOf: v.action.rawValue.utf8)
            out.append(ASCII.quote)
            if let r = v.rule {
                out.append(contentsOf: ",\"rule\":".utf8)
                appendJSONString(r, into: &out)
            }
            if let s = v.severity {
                out.append(contentsOf: ",\"severity\":\"".utf8)
                out.append(contentsOf: s.rawValue.utf8)
                out.append(ASCII.quote)
            }
            if let m = v.matched {
                out.append(contentsOf: ",\"matched\":".utf8)
                appendJSONString(m, into: &out)
            }
            if let d = v.description {
                out.append(contentsOf: ",\"description\":".utf8)
                appendJSONString(d, into: &out)
            }
            out.append(contentsOf: "}\n".utf8)
        }
    }

    /// Appends text with control characters shown as `TextFormatter.printable` shows them (`\n`, `\t`, `\r`,
    /// `\xHH`), so one verdict stays one line.
    static func appendPrintable(_ s: String, into out: inout [UInt8]) {
        var s = s
        let plain = s.withUTF8 { buf -> Bool in
            if !isPrintable(buf) { return false }
            out.append(contentsOf: buf)
            return true
        }
        if plain { return }
        out.append(contentsOf: TextFormatter.printable(Array(s.utf8)).utf8)
    }

    /// Appends a string's UTF-8 bytes (one copy from contiguous storage, not byte by byte).
    @inline(__always)
    private static func appendBytes(_ s: String, into out: inout [UInt8]) {
        Paths.withBytes(s) { out.append(contentsOf: $0) }
    }

    /// No control byte: none below the space and none equal to DEL (eight bytes at a time).
    private static func isPrintable(_ buf: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = buf.count
        var i = 0
        if let base = buf.baseAddress {
            let raw = UnsafeRawPointer(base)
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            while i + 8 <= n {
                let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                // A byte < 0x20, or a byte equal to 0x7F, sets its high bit in `lt | eq` (exact for ASCII bytes;
                // bytes >= 0x80 are masked out by `~w`).
                let lt = (w &- ones &* UInt64(ASCII.space)) & ~w & highs
                let x = w ^ (ones &* UInt64(ASCII.delete))
                let eq = (x &- ones) & ~x & highs
                if lt | eq != 0 { break }
                i += 8
            }
        }
        while i < n {
            let c = buf[i]
            if c < ASCII.space || c == ASCII.delete { return false }
            i += 1
        }
        return true
    }

    /// Appends a JSON string literal.
    static func appendJSONString(_ s: String, into out: inout [UInt8]) {
        JSONWriter.appendQuoted(s, into: &out)
    }

    // MARK: - test

    /// `test POLICY...`: runs each policy's `tests:`; names each failure with file:line.
    ///
    /// Exit 0 when every test passes, 1 when any fails, 2 when a policy does not load.
    ///
    /// A policy without tests fails (nothing shows it does what it says). With `explain`, each failing command
    /// test is followed by every rule tried on each of its commands.
    public static func test(paths: [String], explain: Bool = false) -> Output {
        var out = Output()
        var failedAny = false
        for path in paths {
            let policy: Policy
            do {
                policy = try PolicyLocator.load(path)
            } catch {
                out.stderr += "claude-guard: the policy is invalid:\n\(error.description)\n"
                out.exitCode = 2
                continue
            }
            let (text, failed) = test(policy: policy, explain: explain)
            out.stdout += text
            if failed > 0 { failedAny = true }
        }
        if out.exitCode == 0 && failedAny { out.exitCode = 1 }
        return out
    }

    /// Runs one loaded policy's tests (command and file tests); returns the report and the number of failures.
    ///
    /// Failures are listed in file order.
    public static func test(policy: Policy, explain: Bool = false) -> (String, Int) {
        if policy.tests.isEmpty && policy.fileTests.isEmpty {
            return (
                "\(policy.file): no tests: nothing shows the policy does what it says; add a tests: section, e.g. "
                    + "tests: [ { command: 'rm -rf /', expect: kill } ]\n", 1
            )
        }
        var failures: [(SourceLocation, String)] = []
        for t in policy.tests {
            let ws = t.workspace ?? testWorkspace
            var uid: UInt32? = 1000
            var userName: String? = nil
            if let u = t.user {
                uid = UInt32(u) ?? Paths.uid(of: u)
                userName = UInt32(u) == nil ? u : nil
            }
            let v = policy.evaluate(
                commandLine: t.command, cwd: t.cwd ?? ws, workspace: ws, uid: uid, userName: userName,
                paths: PathWalker(cwd: t.cwd ?? ws))
            var problem: String?
            if v.action != t.expect {
                let why = v.rule.map { "rule '\($0)'" } ?? (v.description ?? "no rule matched")
                problem = "expected \(t.expect.rawValue), got \(v.action.rawValue) (\(why))"
            } else if let r = t.rule, v.rule != r {
                problem = "expected rule '\(r)', got \(v.rule.map { "rule '\($0)'" } ?? "no rule")"
            }
            if let problem {
                var line: [UInt8] = []
                appendPrintable(t.command, into: &line)
                var text = "FAIL \(t.location): \(String(decoding: line, as: UTF8.self)): \(problem)\n"
                if explain {
                    let why = Explain.line(
                        t.command, policy: policy, cwd: t.cwd ?? ws, workspace: ws, uid: uid, userName: userName)
                    text += why.text.split(separator: "\n").map { "    " + $0 + "\n" }.joined()
                }
                failures.append((t.location, text))
            }
        }
        failures += fileTestFailures(policy)
        failures.sort { ($0.0.line, $0.0.column) < ($1.0.line, $1.0.column) }
        let passed = policy.tests.count + policy.fileTests.count - failures.count
        let text = failures.map(\.1).joined() + "\(policy.file): \(passed) passed, \(failures.count) failed\n"
        return (text, failures.count)
    }
}
