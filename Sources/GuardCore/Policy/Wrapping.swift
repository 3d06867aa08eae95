/// What a program that runs a command given in its arguments runs, read from its options as `ParsedArgs`
/// records them (`Wrappers.unwrap`). Options are named as `ParsedOption` names them: a letter for a short
/// option, the full name for a long one.
struct Wrapping: Sendable {
    enum Runs: Sendable {
        /// Its operands, from the first after `skip`, are a program and its arguments (`timeout 5 rm -rf x`).
        case operands
        /// Its operands joined with spaces are shell text (`watch CMD`, `eval CMD`).
        case text
        /// Only what its `text` options say (`script -c CMD LOGFILE`: the operands are files).
        case nothing
        /// A shell: its `-c` text, else its standard input.
        case shell
        /// A program runner (`Runners`): its first operand is the file it loads.
        case runner(Runners.Kind)
        /// Read by its own function in Wrappers.swift (an expression, a user operand, `:::` groups, an applet).
        case own(Own)
    }

    enum Own: Sendable { case su, find, busybox, git, parallel }

    var runs: Runs = .operands
    /// Operands before the command: `timeout DURATION`, `chroot NEWROOT`, `taskset MASK`, `flock FILE`.
    var skip = 0
    /// `skip` holds only when none of these options is given (`runcon CONTEXT CMD`, `runcon -t TYPE CMD`).
    var skipUnless: [String] = []
    /// Where its options begin: `setarch ARCH [options] CMD` has its first operand before them.
    var start = 1
    /// `NAME=VALUE` operands before the command set its environment (`env A=1 CMD`, `sudo A=1 CMD`).
    var assignments = false
    /// Options whose value is shell text it runs (`su -c TEXT`, `script -c TEXT`).
    var text: [String] = []
    /// Words that, right after the skipped operands, make the next word shell text (`flock FILE -c TEXT`).
    var textWords: [String] = []
    /// Options that make it run no command (`sudo -l`, `ionice -p PID`, `taskset -p`).
    var inert: [String] = []
    /// Options after which its operands are shell text run by a shell (`sudo -s CMD`, `sudo -i CMD`).
    var asText: [String] = []
    /// Options after which its operands are a program and its arguments (`watch -x CMD`).
    var asOperands: [String] = []
    /// Options followed by a command, up to `;` (or `{} +`), run once per file found (`find -exec CMD {} ;`).
    var commandOptions: [String] = []
    /// Options whose value is the payload's working directory (`env -C DIR`, `sudo -D DIR`, `unshare -w DIR`).
    var chdir: [String] = []
    /// Options whose value is the user the payload runs as (`sudo -u NAME`, `setpriv --reuid UID`).
    var user: [String] = []
    /// The user the payload runs as when no `user` option names one (`sudo`, `doas`, `su`: root).
    var defaultUser: String?
    /// Options whose value is split at spaces into words that stand in its place (`env -S 'rm -rf' x`).
    var split: [String] = []
    /// Options whose value (or `{}` without one) is replaced by each input item (`xargs -I R`): the payload's
    /// words holding it are unknown statically.
    var replace: [String] = []
    /// What it runs with no command operand (`xargs` runs echo).
    var otherwise: [String] = []

    /// Whether its operands run nothing (`script`).
    var runsNothing: Bool {
        if case .nothing = runs { return true }
        return false
    }
}
