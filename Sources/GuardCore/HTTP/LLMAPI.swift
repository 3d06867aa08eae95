/// The LLM APIs whose traffic the capture understands, told apart by the request path.
public enum LLMAPI: String, Sendable, Equatable {
    /// Anthropic Messages (`POST /v1/messages`, streaming or not).
    case anthropicMessages = "anthropic.messages"
    /// OpenAI Chat Completions (`POST /v1/chat/completions`): `tool_calls`, legacy `function_call`.
    case openAIChat = "openai.chat.completions"
    /// OpenAI Responses (`POST /v1/responses`): `function_call` and `local_shell_call` items.
    case openAIResponses = "openai.responses"

    /// The API a request to this path speaks (a proxy's prefix allowed: `/api/anthropic/v1/messages`).
    public static func from(method: String, path: Substring) -> LLMAPI? {
        guard method == "POST" else { return nil }
        if path.hasSuffix("/v1/messages") || path == "/messages" { return .anthropicMessages }
        if path.hasSuffix("/chat/completions") { return .openAIChat }
        if path.hasSuffix("/v1/responses") || path == "/responses" { return .openAIResponses }
        return nil
    }

    public var provider: String { self == .anthropicMessages ? "anthropic" : "openai" }
}

/// A shell command a tool use asks to run: a command line (`{"command": "ls -la"}`) or an argv
/// (`{"command": ["bash", "-lc", "ls"]}`, as Codex's shell tool sends it).
public enum ToolCommand: Sendable, Equatable {
    case text(String)
    case argv([String])
}

/// One tool call the model asked for.
public struct ToolUse: Sendable, Equatable {
    /// Anthropic's `toolu_…` id, OpenAI's `call_id` / tool call id.
    public var id: String
    public var name: String
    /// The arguments, parsed; a string when they were not valid JSON (then as sent).
    public var input: JSONValue

    public init(id: String, name: String, input: JSONValue) {
        self.id = id
        self.name = name
        self.input = input
    }

    /// The command of a shell tool (`command`, or `cmd`), when the input has one.
    public var command: ToolCommand? {
        for key in ["command", "cmd"] {
            if let s = input[key]?.string { return .text(s) }
            if let a = input[key]?.array {
                let words = a.compactMap(\.string)
                if words.count == a.count && !words.isEmpty { return .argv(words) }
            }
        }
        return nil
    }
}

/// Assembles one response of an LLM API, streamed (one call per server-sent event) or whole, into its tool
/// uses and a summary (model, stop reason, length of the text).
struct LLMResponseAssembler {
    let api: LLMAPI
    /// Keep the text itself (`--capture-bodies`), at most `maxText` bytes; otherwise only its length.
    let keepText: Bool
    static let maxText = 64 << 10

    private(set) var model: String?
    private(set) var stopReason: String?
    private(set) var textChars = 0
    private(set) var text = ""
    private(set) var toolUseIDs: [String] = []
    private(set) var error: String?

    /// A tool call being streamed: its id, name, and argument fragments so far.
    private struct Partial {
        var id: String
        var name: String
        var json: [UInt8] = []
        var initial: JSONValue?
    }
    /// Open calls by content-block index (Anthropic), tool-call index (Chat) or output index (Responses).
    private var open: [Int: Partial] = [:]

    init(api: LLMAPI, keepText: Bool) {
        self.api = api
        self.keepText = keepText
    }

    /// One server-sent event's data, parsed.
    mutating func event(_ e: JSONValue) -> [ToolUse] {
        switch api {
        case .anthropicMessages: return anthropicEvent(e)
        case .openAIChat: return chatChunk(e)
        case .openAIResponses: return responsesEvent(e)
        }
    }

    /// A whole (non-streamed) response body.
    mutating func body(_ b: JSONValue) -> [ToolUse] {
        var uses: [ToolUse] = []
        if let m = b["model"]?.string { model = m }
        if let e = b["error"] { error = e["message"]?.string ?? e.string }
        switch api {
        case .anthropicMessages:
            stopReason = b["stop_reason"]?.string ?? stopReason
            for block in b["content"]?.array ?? [] {
                if let t = block["text"]?.string { addText(t) }
                if let use = Self.anthropicToolUse(block, input: block["input"]) { uses.append(use) }
            }
        case .openAIChat:
            let choice = b["choices"]?[0]
            stopReason = choice?["finish_reason"]?.string ?? stopReason
            let message = choice?["message"]
            if let t = message?["content"]?.string { addText(t) }
            for call in message?["tool_calls"]?.array ?? [] {
                let f = call["function"]
                if let id = call["id"]?.string, let name = f?["name"]?.string {
                    uses.append(ToolUse(id: id, name: name, input: Self.arguments(f?["arguments"])))
                }
            }
            if let f = message?["function_call"], let name = f["name"]?.string {
                uses.append(ToolUse(id: "", name: name, input: Self.arguments(f["arguments"])))
            }
        case .openAIResponses:
            stopReason = b["status"]?.string ?? stopReason
            for item in b["output"]?.array ?? [] {
                if let use = Self.responsesItem(item) { uses.append(use) }
                for part in item["content"]?.array ?? [] { if let t = part["text"]?.string { addText(t) } }
            }
        }
        toolUseIDs += uses.map(\.id)
        return uses
    }

    /// The stream ended (or `[DONE]`): calls still open are complete as they are.
    mutating func finish() -> [ToolUse] {
        let uses = open.keys.sorted().compactMap { open[$0].map(Self.complete) }
        open.removeAll()
        toolUseIDs += uses.map(\.id)
        return uses
    }

    private mutating func addText(_ t: String) {
        textChars += t.count
        if keepText && text.utf8.count < Self.maxText { text += t }
    }

    private mutating func close(_ index: Int) -> [ToolUse] {
        guard let p = open.removeValue(forKey: index) else { return [] }
        let use = Self.complete(p)
        toolUseIDs.append(use.id)
        return [use]
    }

    private static func complete(_ p: Partial) -> ToolUse {
        let input: JSONValue
        if p.json.allSatisfy({ $0 == ASCII.space || $0 == ASCII.lf }) {
            input = p.initial ?? .object([])
        } else {
            input = JSONValue.parse(p.json) ?? .string(String(decoding: p.json, as: UTF8.self))
        }
        return ToolUse(id: p.id, name: p.name, input: input)
    }

    // MARK: Anthropic Messages

    private mutating func anthropicEvent(_ e: JSONValue) -> [ToolUse] {
        let index = e["index"]?.int ?? 0
        switch e["type"]?.string ?? "" {
        case "message_start":
            model = e["message"]?["model"]?.string ?? model
        case "content_block_start":
            guard let block = e["content_block"] else { return [] }
            if let t = block["text"]?.string, !t.isEmpty { addText(t) }
            let type = block["type"]?.string ?? ""
            if type == "tool_use" || type == "server_tool_use", let id = block["id"]?.string,
                let name = block["name"]?.string
            {
                open[index] = Partial(id: id, name: name, initial: block["input"])
            }
        case "content_block_delta":
            let delta = e["delta"]
            switch delta?["type"]?.string ?? "" {
            case "text_delta": addText(delta?["text"]?.string ?? "")
            case "input_json_delta":
                open[index]?.json.append(contentsOf: (delta?["partial_json"]?.string ?? "").utf8)
            default: break
            }
        case "content_block_stop":
            return close(index)
        case "message_delta":
            stopReason = e["delta"]?["stop_reason"]?.string ?? stopReason
        case "error":
            error = e["error"]?["message"]?.string ?? "error"
        default: break
        }
        return []
    }

    private static func anthropicToolUse(_ block: JSONValue, input: JSONValue?) -> ToolUse? {
        let type = block["type"]?.string ?? ""
        guard type == "tool_use" || type == "server_tool_use", let id = block["id"]?.string,
            let name = block["name"]?.string
        else { return nil }
        return ToolUse(id: id, name: name, input: input ?? .object([]))
    }

    // MARK: OpenAI Chat Completions

    private mutating func chatChunk(_ e: JSONValue) -> [ToolUse] {
        if let m = e["model"]?.string { model = m }
        if let err = e["error"] { error = err["message"]?.string ?? "error" }
        var uses: [ToolUse] = []
        for choice in e["choices"]?.array ?? [] {
            let delta = choice["delta"]
            if let t = delta?["content"]?.string { addText(t) }
            for call in delta?["tool_calls"]?.array ?? [] {
                let index = call["index"]?.int ?? 0
                let f = call["function"]
                if open[index] == nil || (call["id"]?.string.map { $0 != open[index]?.id } ?? false) {
                    uses += close(index)
                    open[index] = Partial(id: call["id"]?.string ?? "", name: f?["name"]?.string ?? "")
                }
                if let name = f?["name"]?.string, open[index]?.name.isEmpty == true { open[index]?.name = name }
                open[index]?.json.append(contentsOf: (f?["arguments"]?.string ?? "").utf8)
            }
            if let f = delta?["function_call"] {
                if open[-1] == nil { open[-1] = Partial(id: "", name: f["name"]?.string ?? "") }
                open[-1]?.json.append(contentsOf: (f["arguments"]?.string ?? "").utf8)
            }
            if let reason = choice["finish_reason"]?.string {
                stopReason = reason
                uses += finish()
            }
        }
        return uses
    }

    /// Arguments as sent: a JSON text (parsed), or already an object.
    private static func arguments(_ a: JSONValue?) -> JSONValue {
        guard let a else { return .object([]) }
        if let s = a.string { return JSONValue.parse(s) ?? .string(s) }
        return a
    }

    // MARK: OpenAI Responses

    private mutating func responsesEvent(_ e: JSONValue) -> [ToolUse] {
        let index = e["output_index"]?.int ?? 0
        switch e["type"]?.string ?? "" {
        case "response.created", "response.in_progress", "response.completed", "response.incomplete":
            if let m = e["response"]?["model"]?.string { model = m }
            if let s = e["response"]?["status"]?.string { stopReason = s }
        case "response.failed", "error":
            error = e["response"]?["error"]?["message"]?.string ?? e["message"]?.string ?? "error"
        case "response.output_item.added":
            let item = e["item"]
            if item?["type"]?.string == "function_call", let name = item?["name"]?.string {
                open[index] = Partial(id: item?["call_id"]?.string ?? item?["id"]?.string ?? "", name: name)
            }
        case "response.function_call_arguments.delta":
            open[index]?.json.append(contentsOf: (e["delta"]?.string ?? "").utf8)
        case "response.output_text.delta":
            addText(e["delta"]?.string ?? "")
        case "response.output_item.done":
            open.removeValue(forKey: index)
            guard let item = e["item"], let use = Self.responsesItem(item) else { return [] }
            toolUseIDs.append(use.id)
            return [use]
        default: break
        }
        return []
    }

    /// A complete `function_call` or `local_shell_call` output item.
    private static func responsesItem(_ item: JSONValue) -> ToolUse? {
        let id = item["call_id"]?.string ?? item["id"]?.string ?? ""
        switch item["type"]?.string ?? "" {
        case "function_call":
            guard let name = item["name"]?.string else { return nil }
            return ToolUse(id: id, name: name, input: arguments(item["arguments"]))
        case "local_shell_call":
            return ToolUse(id: id, name: "local_shell", input: item["action"] ?? .object([]))
        default: return nil
        }
    }
}
