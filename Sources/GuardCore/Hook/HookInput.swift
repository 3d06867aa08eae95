/// One `PreToolUse` call as Claude Code writes it on a command hook's standard input.
///
/// Only the fields the judgement needs are kept; the tool's own arguments stay a `JSONValue`, read per tool by
/// `HookJudge`. Unknown fields are ignored (Claude Code adds fields over time).
public struct HookInput: Sendable, Equatable {
    /// `hook_event_name`: only `PreToolUse` is judged.
    public var event: String
    /// `session_id`, for the log and the guard link.
    public var sessionID: String?
    /// `tool_name`: `Bash`, `Write`, `Read`, `mcp__server__tool` ...
    public var toolName: String
    /// `tool_input`: the tool's arguments (an object).
    public var toolInput: JSONValue
    /// `tool_use_id`: the id of this call in the model's response, for linking execs to it.
    public var toolUseID: String?
    /// `cwd`: the session's working directory when the hook runs.
    public var cwd: String?
    /// `permission_mode`: default, plan, acceptEdits, bypassPermissions ... (logged only).
    public var permissionMode: String?

    public init(
        event: String = "PreToolUse", sessionID: String? = nil, toolName: String, toolInput: JSONValue,
        toolUseID: String? = nil, cwd: String? = nil, permissionMode: String? = nil
    ) {
        self.event = event
        self.sessionID = sessionID
        self.toolName = toolName
        self.toolInput = toolInput
        self.toolUseID = toolUseID
        self.cwd = cwd
        self.permissionMode = permissionMode
    }

    /// The largest input read: a `Write` of a big file carries its whole content.
    public static let maxBytes = 64 << 20

    /// Reads a hook input from the bytes of standard input.
    ///
    /// - Throws: `HookError` saying which field is missing or of the wrong type, or why the text is not JSON.
    public static func parse(_ bytes: [UInt8]) throws(HookError) -> HookInput {
        guard let doc = JSONValue.parseDocument(bytes) else { throw .notJSON }
        guard case .object = doc else { throw .notAnObject(doc.kindName) }
        func text(_ key: String) throws(HookError) -> String? {
            guard let v = doc[key], v != .null else { return nil }
            guard let s = v.string else { throw .wrongType(field: key, expected: "a string", found: v.kindName) }
            return s
        }
        let event = try text("hook_event_name") ?? "PreToolUse"
        guard let tool = try text("tool_name"), !tool.isEmpty else { throw .missingField("tool_name", tool: nil) }
        guard let input = doc["tool_input"] else { throw .missingField("tool_input", tool: tool) }
        guard case .object = input else {
            throw .wrongType(field: "tool_input", expected: "an object", found: input.kindName)
        }
        return HookInput(
            event: event, sessionID: try text("session_id"), toolName: tool, toolInput: input,
            toolUseID: try text("tool_use_id"), cwd: try text("cwd"), permissionMode: try text("permission_mode"))
    }

    /// The string argument `key` of the tool (nil when absent or null).
    ///
    /// - Throws: `HookError.wrongType` when it is present but not a string.
    func argument(_ key: String) throws(HookError) -> String? {
        guard let v = toolInput[key], v != .null else { return nil }
        guard let s = v.string else {
            throw .wrongType(field: "tool_input.\(key)", expected: "a string", found: v.kindName)
        }
        return s
    }

    /// The string argument `key`, which the tool requires.
    ///
    /// - Throws: `HookError.missingField` when absent, `.wrongType` when not a string.
    func requiredArgument(_ key: String) throws(HookError) -> String {
        guard let s = try argument(key), !s.isEmpty else { throw .missingField("tool_input.\(key)", tool: toolName) }
        return s
    }
}

/// Why `claude-guard hook` could not judge a call. None of them blocks the tool: Claude Code shows the message
/// and goes on with its own permission rules (unless `--fail-closed` turns them into a deny).
public enum HookError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Standard input is not JSON (or nests deeper than `JSONValue.maxDepth`).
    case notJSON
    /// Standard input is JSON but not an object.
    case notAnObject(String)
    /// A field the call needs is absent (or empty).
    case missingField(String, tool: String?)
    /// A field has the wrong JSON type.
    case wrongType(field: String, expected: String, found: String)
    /// The hook was installed for another event than `PreToolUse`.
    case wrongEvent(String)
    /// Standard input could not be read, or is larger than `HookInput.maxBytes`.
    case unreadableInput(String)
    /// The policy does not load.
    case policy(PolicyError)

    public var description: String {
        switch self {
        case .notJSON:
            return
                "the hook input is not valid JSON; claude-guard hook reads the JSON Claude Code writes on stdin for PreToolUse — run it from a hook, or test it with: echo '{\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\",\"tool_input\":{\"command\":\"ls\"}}' | claude-guard hook"
        case .notAnObject(let kind):
            return "the hook input is \(kind), not a JSON object with tool_name and tool_input"
        case .missingField(let f, let tool):
            let which = tool.map { " for the \($0) tool" } ?? ""
            return
                "the hook input has no '\(f)'\(which); is this hook installed for PreToolUse (claude-guard init claude-code writes it so)?"
        case .wrongType(let f, let expected, let found):
            return "the hook input's '\(f)' is \(found), expected \(expected)"
        case .wrongEvent(let e):
            return
                "claude-guard hook judges PreToolUse calls, not \(e); install it under hooks.PreToolUse (claude-guard init claude-code does)"
        case .unreadableInput(let why):
            return "cannot read the hook input: \(why)"
        case .policy(let e):
            return
                "the policy does not load, so nothing was judged:\n\(e.description)\nFix it (claude-guard lint FILE shows every error) or pass --policy FILE."
        }
    }
}
