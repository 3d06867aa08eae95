/// How one program reads its options: which short and long options take a value, and where options may stand.
/// Each program's syntax is written once, in its `Program` entry (Programs.swift), and read by the one argument
/// walker (`ParsedArgs`) for flag matching, wrapper unwrapping, host and path extraction alike.
struct OptionSyntax: Sendable {
    /// Short options that take a value (`-n 5`, `-n5`): the rest of the bundle or the next word is the value.
    var shortWithValue = Glob.ByteSet()
    /// Short options whose value may only be attached (`sed -i.bak`, getopt's `x::`): the rest of the bundle.
    var shortOptionalValue = Glob.ByteSet()
    /// The long options: those that take a value, or (for a program whose table is complete) every one of them,
    /// so that an abbreviation is read as the program reads it.
    var longs = LongOptions.none
    /// Options are single-dash words (`find -delete`, `-exec`): each is one long flag, never a bundle.
    var singleDashLong = false
    /// Only the words before the first option-like word are operands (`find DIR... EXPR`).
    var leadingOperandsOnly = false
    /// Options end at the first operand (shells, wrappers, program runners, POSIX getopt and getopt's `+`): every
    /// later word belongs to what runs (`bash SCRIPT -c X` hands `-c X` to SCRIPT; `timeout 5 rm -rf V` hands
    /// `-rf V` to rm).
    var optionsFirst = false
    /// `+x` and `+o NAME` are options too (shells; `sh +c TEXT` runs TEXT as `sh -c TEXT` does).
    var plusOptions = false
    /// A short option's value is the next word and its bundle goes on (`bash -oe pipefail` is `-o pipefail -e`),
    /// as bash, dash and busybox sh read them; otherwise (getopt) the rest of the bundle, else the next word.
    var valuesFollowBundle = false
    /// A lone `-` ends the options as `--` does (shells).
    var dashEndsOptions = false
    /// The option (without dashes) that sets the argv[0] the program sees: ld.so `--argv0`, qemu `-0`.
    var argv0Option: String?
    /// Options that imply others (`rm --interactive=never` is `rm -f`).
    var implications: [Implication] = []

    /// - Parameters:
    ///   - short: short options that take a value; `optional`: those that take only an attached one.
    ///   - long: long options that take the next word as their value (a partial table: names read exactly).
    ///   - longs: every long option, as `LongOptions` spells them (a complete table: abbreviations resolve).
    init(
        short: String = "", optional: String = "", long: [String] = [], longs: String? = nil,
        singleDashLong: Bool = false, leadingOperandsOnly: Bool = false, optionsFirst: Bool = false,
        argv0Option: String? = nil, implications: [Implication] = []
    ) {
        for c in short.utf8 { shortWithValue.insert(c) }
        for c in optional.utf8 { shortOptionalValue.insert(c) }
        if let longs {
            self.longs = LongOptions(longs)
        } else if !long.isEmpty {
            self.longs = LongOptions(long.map { $0 + "=" }.joined(separator: " "), complete: false)
        }
        self.singleDashLong = singleDashLong
        self.leadingOperandsOnly = leadingOperandsOnly
        self.optionsFirst = optionsFirst
        self.argv0Option = argv0Option
        self.implications = implications
    }

    /// A shell's options: `-c` and `-s` anywhere in them, `+` options, `-` ends them, values in `values`.
    static func shell(values: String, long: [String] = [], followBundle: Bool) -> OptionSyntax {
        var s = OptionSyntax(short: values, long: long, optionsFirst: true)
        s.plusOptions = true
        s.valuesFollowBundle = followBundle
        s.dashEndsOptions = true
        return s
    }

    /// A wrapper's options as getopt_long reads them with a `+` (options end at the first operand): `short`
    /// letters take a value, `optional` an attached one; `longs` is its complete long option table.
    static func wrapper(short: String = "", optional: String = "", longs: String = "") -> OptionSyntax {
        OptionSyntax(short: short, optional: optional, longs: longs, optionsFirst: true)
    }

    /// Whether it says nothing beyond a plain getopt reading without values.
    var isPlain: Bool {
        shortWithValue.isEmpty && longs.isEmpty && !singleDashLong && shortOptionalValue.isEmpty
            && !optionsFirst && implications.isEmpty
    }

    static let plain = OptionSyntax()

    /// The syntax for a program name (see `Programs.lookup`).
    static func lookup(_ name: String) -> OptionSyntax { Programs.lookup(name)?.syntax ?? .plain }
}

/// A program's long options as getopt_long(3) reads them: `--name=value`, `--name value` for an option that
/// requires a value, and (in a complete table) any unambiguous prefix of a name (`timeout --sig KILL` is
/// `--signal KILL`; an exact name wins over the longer names it begins). A partial table (only the options that
/// take a value, for programs whose other options are not listed) is read by exact names only: a prefix of an
/// unlisted option (`curl --head`) must not be taken for a listed one (`--header`).
struct LongOptions: Sendable {
    enum Arg: Sendable { case none, required, optional }

    private let names: [String]
    private let args: [Arg]
    /// Whether every long option of the program is listed (abbreviations then resolve).
    let complete: Bool

    /// `spec`: space-separated names, `name=` for a required value, `name?` for an optional (attached) one.
    init(_ spec: String, complete: Bool = true) {
        var names: [String] = []
        var args: [Arg] = []
        for word in spec.split(separator: " ") {
            if word.hasSuffix("=") {
                names.append(String(word.dropLast()))
                args.append(.required)
            } else if word.hasSuffix("?") {
                names.append(String(word.dropLast()))
                args.append(.optional)
            } else {
                names.append(String(word))
                args.append(.none)
            }
        }
        self.names = names
        self.args = args
        self.complete = complete
    }

    static let none = LongOptions("", complete: false)

    var isEmpty: Bool { names.isEmpty }

    /// The option `name` (without `--`) stands for: itself, else (complete tables) the one option it is a prefix
    /// of. Nil when it is unknown or ambiguous (the program then stops with an error, or, for a partial table,
    /// it is an option not listed, which takes no value).
    func resolve<S: StringProtocol>(_ name: S) -> (name: String, arg: Arg)? {
        for k in names.indices where names[k] == name { return (names[k], args[k]) }
        guard complete, !name.isEmpty else { return nil }
        var found: Int?
        for k in names.indices where names[k].hasPrefix(name) {
            if found != nil { return nil }
            found = k
        }
        return found.map { (names[$0], args[$0]) }
    }
}
