import Foundation
import Yams

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's configuration (`claude-guard daemon --config FILE`): which processes to guard, each with its own
/// policy and mode. Errors say file:line:column, as a policy's do (`PolicyError`).
///
///     version: 1
///     guards:
///       - name: claude-code
///         match: { comm: [claude, node], argv: 'claude-code', user: [alice, 1001] }
///         policy: strict        # a shipped policy's name, or a file (relative to this file)
///         mode: enforce         # or audit (default: the policy's own mode)
///
/// A process matches a guard when every criterion it gives holds (any value of a list); the first guard that
/// matches in file order guards it, with all its descendants.
public struct DaemonConfig: Sendable {
    public struct Guard: Sendable {
        public var name: String
        /// Process names as the kernel keeps them (comm, at most 15 bytes).
        public var comms: [String] = []
        /// Executables by absolute path: the program itself, or the script an interpreter runs.
        public var exes: [(path: String, at: SourceLocation)] = []
        /// Users, as UIDs (names resolved when the file is read).
        public var uids: [UInt32] = []
        /// cgroup v2 directories (full paths): a process in one of them or below it.
        public var cgroups: [(path: String, at: SourceLocation)] = []
        /// A regular expression searched in the command line (arguments joined by spaces), checked in user space.
        public var argv: String?
        /// The policy's `--policy` value (a shipped name or a file, made absolute), nil: the embedded default.
        public var policy: String?
        public var policyAt: SourceLocation
        /// `mode:` of the guard; nil: the policy's own.
        public var mode: PolicyMode?
    }

    public var file: String
    public var guards: [Guard] = []

    static let topKeys = ["version", "guards"]
    static let guardKeys = ["name", "match", "policy", "mode"]
    static let matchKeys = ["comm", "exe", "user", "cgroup", "argv"]

    /// The kernel keeps 15 bytes of a process name.
    static let commMax = 15

    /// Reads and validates a config file; `cgroupRoot` is where the cgroup v2 hierarchy is mounted.
    ///
    /// - Throws: `PolicyError` (every problem found, each with file:line:column).
    public static func load(file: String, cgroupRoot: String) throws(PolicyError) -> DaemonConfig {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .unreadable(file: file, reason: String(cString: strerror(access(file, R_OK) == 0 ? EIO : errno)))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(file: file, reason: "not UTF-8 text")
        }
        return try parse(text, file: file, cgroupRoot: cgroupRoot)
    }

    /// Validates config text (`file` names it in errors, and is where relative policy files are looked for).
    public static func parse(_ text: String, file: String, cgroupRoot: String) throws(PolicyError) -> DaemonConfig {
        var l = PolicyLoader(file: file)
        var config = DaemonConfig(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, .basic)
        } catch let e as YamlError {
            switch e {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                throw .syntax(SourceLocation(file: file, line: mark.line, column: mark.column), message: problem)
            default:
                throw .syntax(SourceLocation(file: file, line: 1, column: 1), message: "\(e)")
            }
        } catch {
            throw .syntax(SourceLocation(file: file, line: 1, column: 1), message: "\(error)")
        }
        guard let root, let top = root.mapping else {
            throw .wrongType(
                SourceLocation(file: file, line: 1, column: 1), key: "config", expected: "a mapping of keys",
                example: "'version: 1' then 'guards:' on the next lines")
        }
        let entries = l.pairs(top, context: "the daemon config", allowed: topKeys)
        if let v = entries["version"] {
            if v.scalar?.string != "1" {
                l.errors.append(.invalidValue(l.loc(v), key: "version", message: "this claude-guard reads version 1"))
            }
        } else {
            l.errors.append(
                .missingKey(l.loc(root), key: "version", context: "the daemon config", example: "version: 1"))
        }
        let base = URL(fileURLWithPath: file).deletingLastPathComponent().path
        if let g = entries["guards"], let items = l.sequence(g, key: "guards", example: "guards: [ ... ]") {
            if items.isEmpty {
                l.errors.append(.invalidValue(l.loc(g), key: "guards", message: "the list is empty: give one guard"))
            }
            if items.count > 64 {
                l.errors.append(.invalidValue(l.loc(g), key: "guards", message: "at most 64 guards"))
            }
            var names: Set<String> = []
            for item in items {
                guard let one = loadGuard(item, &l, base: base, cgroupRoot: cgroupRoot) else { continue }
                if !names.insert(one.name).inserted {
                    l.errors.append(.invalidValue(l.loc(item), key: "name", message: "'\(one.name)' names two guards"))
                }
                config.guards.append(one)
            }
        } else if entries["guards"] == nil {
            l.errors.append(
                .missingKey(l.loc(root), key: "guards", context: "the daemon config", example: "guards: [ ... ]"))
        }
        if l.errors.count == 1 { throw l.errors[0] }
        if !l.errors.isEmpty { throw .several(l.errors) }
        return config
    }

    private static func loadGuard(_ node: Node, _ l: inout PolicyLoader, base: String, cgroupRoot: String) -> Guard? {
        let example = "- name: claude\n    match: { comm: claude }\n    policy: strict"
        guard let m = l.mapping(node, key: "guards item", example: example) else { return nil }
        let before = l.errors.count
        let e = l.pairs(m, context: "a guard", allowed: guardKeys)
        var g = Guard(name: "", policyAt: l.loc(node))
        if let n = e["name"], let s = l.string(n, key: "name", example: "name: claude-code") {
            g.name = s
        } else if e["name"] == nil {
            l.errors.append(.missingKey(l.loc(node), key: "name", context: "a guard", example: "name: claude-code"))
        }
        if let n = e["policy"], let s = l.string(n, key: "policy", example: "policy: strict") {
            // A file is relative to the config; a bare word is a shipped policy's name.
            let isFile = s.contains("/") || s.hasSuffix(".yaml") || s.hasSuffix(".yml")
            g.policy = isFile && !s.hasPrefix("/") ? base + "/" + s : s
            g.policyAt = l.loc(n)
        }
        if let n = e["mode"], let s = l.string(n, key: "mode", example: "mode: enforce") {
            if let mode = PolicyMode(rawValue: s) {
                g.mode = mode
            } else {
                l.errors.append(.unknownMode(l.loc(n), found: s))
            }
        }
        if let n = e["match"], let mm = l.mapping(n, key: "match", example: "match: { comm: claude }") {
            let c = l.pairs(mm, context: "a guard's match", allowed: matchKeys)
            if let v = c["comm"], let list = l.strings(v, key: "comm", example: "comm: [claude, node]") {
                for (s, at) in list {
                    if s.utf8.count > commMax || s.isEmpty {
                        l.errors.append(
                            .invalidValue(
                                l.loc(at), key: "comm",
                                message:
                                    "'\(s)' is not a process name the kernel keeps (1 to \(commMax) bytes; it keeps the first \(commMax) of a longer name)"
                            ))
                    }
                    g.comms.append(s)
                }
            }
            if let v = c["exe"], let list = l.strings(v, key: "exe", example: "exe: /usr/bin/node") {
                for (s, at) in list {
                    if !s.hasPrefix("/") {
                        l.errors.append(.invalidValue(l.loc(at), key: "exe", message: "'\(s)' is not an absolute path"))
                    }
                    g.exes.append((s, l.loc(at)))
                }
            }
            if let v = c["user"], let list = l.strings(v, key: "user", example: "user: [alice, 1001]") {
                for (s, at) in list {
                    if let uid = UInt32(s) {
                        g.uids.append(uid)
                    } else if let pw = getpwnam(s) {
                        g.uids.append(pw.pointee.pw_uid)
                    } else {
                        l.errors.append(
                            .invalidValue(l.loc(at), key: "user", message: "no user '\(s)': give a user name or a UID"))
                    }
                }
            }
            if let v = c["cgroup"],
                let list = l.strings(v, key: "cgroup", example: "cgroup: user.slice/user-1000.slice")
            {
                for (s, at) in list {
                    // Under the v2 hierarchy: a full path, or one relative to where it is mounted.
                    let full = s.hasPrefix(cgroupRoot) ? s : cgroupRoot + "/" + s.drop { $0 == "/" }
                    if access(full + "/cgroup.procs", F_OK) != 0 {
                        l.errors.append(
                            .invalidValue(
                                l.loc(at), key: "cgroup",
                                message: "\(full) is not a cgroup v2 directory (no cgroup.procs)"))
                    }
                    g.cgroups.append((full, l.loc(at)))
                }
            }
            if let v = c["argv"], let s = l.string(v, key: "argv", example: "argv: 'claude-code'") {
                do {
                    _ = try SearchRegex(s)
                    g.argv = s
                } catch {
                    l.errors.append(
                        .invalidValue(
                            l.loc(v), key: "argv",
                            message: "'\(s)' is not a regular expression (escape a special character with '\\')"))
                }
            }
            if g.comms.isEmpty && g.exes.isEmpty && g.uids.isEmpty && g.cgroups.isEmpty && l.errors.count == before {
                l.errors.append(
                    .invalidValue(
                        l.loc(n), key: "match",
                        message:
                            "give at least one of comm, exe, user or cgroup (argv alone would look at every process)"))
            }
        } else if e["match"] == nil {
            l.errors.append(
                .missingKey(l.loc(node), key: "match", context: "a guard", example: "match: { comm: claude }"))
        }
        return l.errors.count == before ? g : nil
    }

    /// Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid system).
    public static func cgroupRoot(mountinfo: String? = nil) -> String {
        let text = mountinfo ?? (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            // "... mountpoint options - cgroup2 source ..."
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2, halves[1].hasPrefix("cgroup2 ") else { continue }
            let fields = halves[0].split(separator: " ")
            if fields.count > 4 { return String(fields[4]) }
        }
        return "/sys/fs/cgroup"
    }
}
