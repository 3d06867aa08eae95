import Foundation
import Yams

/// Finds the policy a `--policy` value names: a file, or a shipped policy by name (`--policy strict`).
///
/// A value with a `/`, a `.yaml`/`.yml` suffix, or naming an existing file is that file. Otherwise it is the name
/// of a shipped policy: `default` is the embedded one; the others are looked up in `policies/` directories:
/// `$CLAUDE_GUARD_POLICIES`, `PREFIX/share/claude-guard/policies` beside an installed binary (`make install`),
/// and the source tree the binary was built in.
public enum PolicyLocator {
    /// What a `--policy` value names.
    public enum Location: Sendable, Equatable {
        case embeddedDefault
        case file(String)
        /// A name no directory holds; the directories looked in.
        case notFound(name: String, searched: [String])
    }

    /// The directories shipped policies are looked for in, in order.
    public static func searchDirectories() -> [String] {
        var out: [String] = []
        func add(_ d: String) {
            let n = Paths.normalize(d)
            if !out.contains(n) { out.append(n) }
        }
        if let env = ProcessInfo.processInfo.environment["CLAUDE_GUARD_POLICIES"], !env.isEmpty { add(env) }
        if let exe = realPath("/proc/self/exe") {
            let bin = dirname(exe)
            add(bin + "/../share/claude-guard/policies")
            // A build in the source tree: .build/<triple>/debug/claude-guard, .build/debug/claude-guard.
            var d = bin
            for _ in 0..<4 {
                d = dirname(d)
                if FileManager.default.fileExists(atPath: d + "/policies/default.yaml") { add(d + "/policies") }
            }
        }
        // The source tree this file was compiled in.
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("policies").path
        if FileManager.default.fileExists(atPath: source + "/default.yaml") { add(source) }
        return out
    }

    private static func dirname(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// The shipped policies' names found in the search directories (`default` first).
    public static func shippedNames() -> [String] {
        var names = ["default"]
        for dir in searchDirectories() {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            for f in files.sorted() where f.hasSuffix(".yaml") {
                let n = String(f.dropLast(5))
                if !names.contains(n) { names.append(n) }
            }
        }
        return names
    }

    /// What `spec` names.
    public static func locate(_ spec: String) -> Location {
        let isPath =
            spec.contains("/") || spec.hasSuffix(".yaml") || spec.hasSuffix(".yml")
            || FileManager.default.fileExists(atPath: spec)
        if isPath { return .file(spec) }
        if spec == "default" { return .embeddedDefault }
        let dirs = searchDirectories()
        for d in dirs where FileManager.default.fileExists(atPath: "\(d)/\(spec).yaml") {
            return .file("\(d)/\(spec).yaml")
        }
        return .notFound(name: spec, searched: dirs)
    }

    /// Loads the policy `spec` names, or the embedded default for nil.
    ///
    /// - Throws: `PolicyError` (file:line:column; or a name no shipped policy has).
    public static func load(_ spec: String?) throws(PolicyError) -> Policy {
        guard let spec else { return Policy.embeddedDefault }
        switch locate(spec) {
        case .embeddedDefault:
            return Policy.embeddedDefault
        case .file(let path):
            return try Policy.load(path: path)
        case .notFound(let name, let searched):
            let known = shippedNames().joined(separator: ", ")
            let dirs =
                searched.isEmpty ? "no policies directory found" : "looked in " + searched.joined(separator: ", ")
            throw .unreadable(
                file: name,
                reason: "no such file, and no shipped policy has that name (shipped: \(known); \(dirs))")
        }
    }

    /// Where a loaded policy came from, for start lines: `embedded default` or its file.
    public static func source(of policy: Policy) -> String {
        policy.file == Policy.embeddedDefaultFile ? "embedded default" : policy.file
    }
}

extension Policy {
    /// `file` of the embedded default policy.
    public static let embeddedDefaultFile = "<embedded default.yaml>"
}

extension PolicyTool {
    /// `policy show [NAME|FILE]`: the effective policy as YAML — anchors expanded, every setting and every
    /// rule's severity filled in with the value that applies — headed by a comment naming where it came from.
    ///
    /// Exit 0, or 2 when it does not load.
    public static func show(_ spec: String?) -> Output {
        let policy: Policy
        do {
            policy = try PolicyLocator.load(spec)
        } catch {
            return failure(error)
        }
        let text: String
        if policy.file == Policy.embeddedDefaultFile {
            text = Policy.embeddedDefaultText
        } else {
            guard let data = FileManager.default.contents(atPath: policy.file) else {
                return failure(.unreadable(file: policy.file, reason: "it went away while being read"))
            }
            text = String(decoding: data, as: UTF8.self)
        }
        do {
            guard let root = try Yams.compose(yaml: text, .basic), let top = root.mapping else {
                return failure(.unreadable(file: policy.file, reason: "it is not a mapping"))
            }
            let yaml = try Yams.serialize(node: effective(policy, top), width: 120)
            let head = "# \(policy.name): \(PolicyLocator.source(of: policy))\n"
            return Output(stdout: head + "# as claude-guard reads it: anchors expanded, defaults filled in\n" + yaml)
        } catch {
            return failure(.unreadable(file: policy.file, reason: "\(error)"))
        }
    }

    /// The top mapping with every default written out.
    static func effective(_ p: Policy, _ top: Node.Mapping) -> Node {
        func s(_ v: String) -> Node { Node(v) }
        func plain(_ v: String) -> Node { Node(v, Tag(.str), .plain) }
        var pairs: [(Node, Node)] = [(s("version"), plain("1")), (s("name"), s(p.name))]
        if let d = p.description { pairs.append((s("description"), s(d))) }
        pairs += [(s("mode"), s(p.mode.rawValue)), (s("default"), s(p.defaultAction.rawValue))]
        let settings: [(Node, Node)] = [
            (s("hold_timeout_ms"), plain(String(p.holdTimeoutMs))), (s("on_timeout"), s(p.onTimeout.rawValue)),
            (s("unknown_command"), s(p.unknownCommand.rawValue)), (s("unparsable"), s(p.unparsable.rawValue)),
            (s("preload"), s(p.preload.rawValue)), (s("traced_exec"), s(p.tracedExec.rawValue)),
            (s("ptrace"), s(p.ptrace.rawValue)), (s("tamper"), s(p.tamper.rawValue)),
        ]
        pairs.append((s("settings"), Node(settings)))
        func withSeverities(_ key: String, _ severity: (String) -> Severity?) {
            guard let seq = top[key]?.sequence else { return }
            var items: [Node] = []
            for item in seq {
                guard var m = item.mapping else { continue }
                if m["severity"] == nil, let id = m["id"]?.string, let sev = severity(id) {
                    m["severity"] = s(sev.rawValue)
                }
                items.append(Node.mapping(m))
            }
            pairs.append((s(key), Node(items)))
        }
        withSeverities("rules") { id in
            p.rules.first { $0.id == id }.map { $0.severity ?? Policy.defaultSeverity($0.action) }
        }
        withSeverities("files") { id in
            p.fileRules.first { $0.id == id }.map { $0.severity ?? $0.action.defaultSeverity }
        }
        if let tests = top["tests"] { pairs.append((s("tests"), tests)) }
        return Node(pairs)
    }
}
