#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `claude-guard init claude-code`: the hook written into a Claude Code settings file, merged with what is there.
///
/// The file's other keys, and other hooks, stay as they are (in their order); the old file is kept as a backup
/// beside it; running it again changes nothing (or only the hook's command, when the binary moved).
public enum ClaudeCodeInit {
    /// Which settings file gets the hook.
    public enum Target: Sendable, Equatable {
        /// `DIR/.claude/settings.json`, shared with the project's other users.
        case project(String)
        /// `DIR/.claude/settings.local.json`, this user's for the project.
        case local(String)
        /// `HOME/.claude/settings.json`, every project of this user.
        case user(String)

        public var path: String {
            switch self {
            case .project(let d): return Paths.normalize(d) + "/.claude/settings.json"
            case .local(let d): return Paths.normalize(d) + "/.claude/settings.local.json"
            case .user(let h): return Paths.normalize(h) + "/.claude/settings.json"
            }
        }
    }

    /// Why the settings file was left alone.
    public enum InitError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The file is there but is not a JSON object.
        case notSettings(path: String, why: String)
        /// A key the hook goes under has another type than Claude Code reads.
        case wrongShape(path: String, key: String, found: String)
        /// The file or its directory cannot be written.
        case unwritable(path: String, errno: Int32)

        public var description: String {
            switch self {
            case .notSettings(let p, let why):
                return
                    "\(p) \(why), so it was left as it is; fix it (Claude Code cannot read it either) or move it away, then run init again"
            case .wrongShape(let p, let key, let found):
                return
                    "\(p): '\(key)' is \(found), not what Claude Code reads there; fix it by hand (nothing was changed)"
            case .unwritable(let p, let e):
                return "cannot write \(p): \(String(cString: strerror(e))); check its permissions"
            }
        }
    }

    /// The hook's command line for a binary: the path shell-quoted (Claude Code runs hooks through a shell).
    public static func hookCommand(binary: String, extra: [String] = []) -> String {
        ([shellQuote(binary), "hook"] + extra.map(shellQuote)).joined(separator: " ")
    }

    /// Whether a hook command runs `claude-guard hook` (any path, any flags).
    static func isOurs(_ command: String) -> Bool {
        guard let argv = ShellScript.parse(bytes: Array(command.utf8)).commands.first?.argv, argv.count >= 2 else {
            return false
        }
        return Paths.basename(argv[0]) == "claude-guard" && argv[1] == "hook"
    }

    /// The settings with the hook in `hooks.PreToolUse` (matcher `*`, every tool), and whether anything changed.
    ///
    /// An existing `claude-guard hook` entry is kept (its command updated when it differs); every other key and
    /// hook is kept in its place.
    ///
    /// - Throws: `InitError.wrongShape` when `hooks` or `hooks.PreToolUse` has a type Claude Code does not read.
    public static func merged(
        _ settings: JSONValue, command: String, path: String
    ) throws(InitError) -> (
        JSONValue, Bool
    ) {
        var doc = settings
        var hooks = doc["hooks"] ?? .object([])
        guard case .object = hooks else { throw .wrongShape(path: path, key: "hooks", found: hooks.kindName) }
        let pre = hooks["PreToolUse"] ?? .array([])
        guard var groups = pre.array else {
            throw .wrongShape(path: path, key: "hooks.PreToolUse", found: pre.kindName)
        }
        for (g, group) in groups.enumerated() {
            guard let list = group["hooks"]?.array else { continue }
            for (h, hook) in list.enumerated() {
                guard let cmd = hook["command"]?.string, isOurs(cmd) else { continue }
                if cmd == command { return (settings, false) }
                var newHook = hook
                newHook.set("command", .string(command))
                var newList = list
                newList[h] = newHook
                var newGroup = group
                newGroup.set("hooks", .array(newList))
                groups[g] = newGroup
                hooks.set("PreToolUse", .array(groups))
                doc.set("hooks", hooks)
                return (doc, true)
            }
        }
        let entry = JSONValue.object([
            .init("matcher", .string("*")),
            .init(
                "hooks",
                .array([
                    .object([
                        .init("type", .string("command")), .init("command", .string(command)),
                        .init("timeout", .number("10")),
                    ])
                ])),
        ])
        groups.append(entry)
        hooks.set("PreToolUse", .array(groups))
        doc.set("hooks", hooks)
        return (doc, true)
    }

    /// Installs the hook in `target`: reads the file (a missing one is empty settings), merges, keeps a backup of
    /// the old file, and replaces it atomically. Returns the backup's path (nil when there was no old file or
    /// nothing changed) and whether anything changed.
    ///
    /// - Throws: `InitError` when the old file is not settings or the new one cannot be written.
    public static func install(
        _ target: Target, command: String, now: Int = Int(time(nil))
    ) throws(InitError) -> (
        backup: String?, changed: Bool
    ) {
        let path = target.path
        let old = ClaudeSettingsImport.readFile(path)
        var settings = JSONValue.object([])
        if let old, !old.allSatisfy({ [ASCII.space, ASCII.lf, ASCII.cr, ASCII.tab].contains($0) }) {
            guard let doc = JSONValue.parseDocument(old) else {
                throw .notSettings(path: path, why: "is not valid JSON")
            }
            guard case .object = doc else { throw .notSettings(path: path, why: "is \(doc.kindName), not an object") }
            settings = doc
        } else if old == nil, access(path, F_OK) == 0 {
            throw .unwritable(path: path, errno: EACCES)
        }
        let (doc, changed) = try merged(settings, command: command, path: path)
        guard changed else { return (nil, false) }
        let dir = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { throw .unwritable(path: dir, errno: errno) }
        var backup: String?
        var mode: mode_t = 0o644
        if let old {
            var st = stat()
            if stat(path, &st) == 0 { mode = st.st_mode & 0o7777 }
            let b = "\(path).bak-\(now)"
            try write(old, to: b, mode: mode)
            backup = b
        }
        try write(Array(doc.pretty.utf8), to: path, mode: mode)
        return (backup, true)
    }

    /// Writes a whole file through a temporary one in the same directory, renamed over it.
    ///
    /// - Throws: `InitError.unwritable` naming the file and the reason.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws(InitError) {
        let tmp = "\(path).tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .unwritable(path: path, errno: errno) }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + off }, bytes.count - off) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = errno
                close(fd)
                unlink(tmp)
                throw .unwritable(path: path, errno: e)
            }
            off += n
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced, rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw .unwritable(path: path, errno: e)
        }
    }

    /// `init claude-code`: installs the hook and says what it did, which policy it will use, and how to start
    /// the kernel guard on the running agent.
    ///
    /// Exit 0 when installed (or already there), 2 when the settings file was left alone.
    public static func run(
        target: Target, binary: String, hookFlags: [String] = [], cwd: String, home: String
    )
        -> PolicyTool.Output
    {
        let command = hookCommand(binary: binary, extra: hookFlags)
        let result: (backup: String?, changed: Bool)
        do {
            result = try install(target, command: command)
        } catch {
            return PolicyTool.Output(stderr: "claude-guard init: \(error.description)\n", exitCode: 2)
        }
        var out = ""
        if result.changed {
            out += "Installed the claude-guard PreToolUse hook in \(target.path):\n  \(command)\n"
            if let b = result.backup { out += "The previous file is kept as \(b).\n" }
        } else {
            out += "The claude-guard hook is already installed in \(target.path); nothing changed.\n"
        }
        let project: String? = {
            switch target {
            case .project(let d), .local(let d): return d
            case .user: return nil
            }
        }()
        let source = HookTool.locatePolicy(flag: nil, projectDir: project, cwd: project ?? cwd, home: home)
        switch source {
        case .embedded:
            out +=
                "It judges every tool call with the embedded default policy; put your own at .claude/\(HookTool.policyFileName) (project) or ~/.claude/\(HookTool.policyFileName) (yours), e.g. from your Claude Code rules: claude-guard import claude-settings ~/.claude/settings.json .claude/settings.json > .claude/\(HookTool.policyFileName)\n"
        default:
            out += "It judges every tool call with \(source.path ?? "the default policy").\n"
        }
        out += """
            Claude Code reads settings when it starts: restart running sessions (or open /hooks) to load the hook.
            The hook refuses what it can see before it runs; to catch what the commands' children do, guard the
            running agent in the kernel as well (the guard then also puts each call's tool_use_id on its execs):
              sudo \(shellQuote(binary)) -p "$(pgrep -n -x claude || pgrep -n -f claude)"

            """
        return PolicyTool.Output(stdout: out)
    }
}
