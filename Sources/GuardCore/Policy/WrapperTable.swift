/// The programs that run a command given in their arguments, and the shells: each one's options (as its getopt
/// string and `--help` list them on Debian 12: coreutils 9.1, util-linux 2.38, findutils 4.9, procps-ng 4.0,
/// sudo 1.9, doas 6.8, GNU time 1.9, GNU parallel 20221122; strace's long options only as far as those that take
/// a separate value) and what it runs. Most read their options with getopt's `+`: options end at the first
/// operand, which is the command (`OptionSyntax.wrapper`).
extension Programs {
    static let wrappers: [String: Program] = {
        var t: [String: Program] = [
            // coreutils
            "env": Program(
                .wrapper(
                    short: "uCSP",
                    longs: "unset= chdir= split-string= ignore-environment null block-signal? default-signal? "
                        + "ignore-signal? list-signal-handling debug help version"),
                wraps: Wrapping(assignments: true, chdir: ["C", "chdir"], split: ["S", "split-string"])),
            "nohup": Program(.wrapper(longs: "help version"), wraps: Wrapping()),
            "timeout": Program(
                .wrapper(
                    short: "ks", longs: "signal= kill-after= foreground preserve-status verbose help version"),
                wraps: Wrapping(skip: 1)),
            "nice": Program(.wrapper(short: "n", longs: "adjustment= help version"), wraps: Wrapping()),
            "stdbuf": Program(.wrapper(short: "ioe", longs: "input= output= error= help version"), wraps: Wrapping()),
            "chroot": Program(
                .wrapper(longs: "userspec= groups= skip-chdir help version"), wraps: Wrapping(skip: 1)),
            "runcon": Program(
                .wrapper(short: "rtul", longs: "compute role= type= user= range= help version"),
                wraps: Wrapping(skip: 1, skipUnless: ["r", "t", "u", "l", "role", "type", "user", "range"])),
            // util-linux
            "setsid": Program(.wrapper(longs: "ctty fork wait help version"), wraps: Wrapping()),
            "ionice": Program(
                .wrapper(short: "cnpPu", longs: "class= classdata= pid= pgid= uid= ignore help version"),
                wraps: Wrapping(inert: ["p", "P", "u", "pid", "pgid", "uid"])),
            "taskset": Program(
                .wrapper(longs: "all-tasks pid cpu-list help version"), wraps: Wrapping(skip: 1, inert: ["p", "pid"])),
            "chrt": Program(
                .wrapper(
                    short: "TPD",
                    longs: "batch deadline fifo idle other rr reset-on-fork sched-runtime= sched-period= "
                        + "sched-deadline= all-tasks max pid verbose help version"),
                wraps: Wrapping(skip: 1, inert: ["p", "pid", "m", "max"])),
            "flock": Program(
                .wrapper(
                    short: "wEc",
                    longs: "timeout= wait= conflict-exit-code= shared exclusive unlock nonblock close no-fork "
                        + "verbose command= help version"),
                // After the lock file only `-c` / `--command` as written (flock compares them exactly); before
                // it flock knows no -c, which is read as one all the same.
                wraps: Wrapping(skip: 1, text: ["c", "command"], textWords: ["-c", "--command"])),
            "unshare": Program(
                .wrapper(
                    short: "RwSG",
                    longs: "mount? uts? ipc? net? pid? user? cgroup? time? fork map-user= map-group= map-root-user "
                        + "map-current-user map-auto map-users= map-groups= kill-child? mount-proc? propagation= "
                        + "setgroups= keep-caps root= wd= setuid= setgid= monotonic= boottime= help version"),
                wraps: Wrapping(chdir: ["w", "wd"])),
            "nsenter": Program(
                .wrapper(
                    short: "tSGW", optional: "muinpCUTrw",
                    longs: "all target= mount? uts? ipc? net? pid? cgroup? user? time? setuid= setgid= "
                        + "preserve-credentials root? wd? wdns= no-fork follow-context help version"),
                wraps: Wrapping()),
            "setpriv": Program(
                .wrapper(
                    longs: "dump no-new-privs nnp ambient-caps= inh-caps= bounding-set= ruid= euid= rgid= egid= "
                        + "reuid= regid= clear-groups keep-groups init-groups groups= securebits= pdeathsig= "
                        + "selinux-label= apparmor-profile= landlock-access= landlock-rule= reset-env help version"),
                wraps: Wrapping(inert: ["d", "dump"], user: ["reuid", "ruid", "euid"])),
            "prlimit": Program(
                .wrapper(
                    short: "op", optional: "cdefilmnqrstuvxy",
                    longs: "pid= output= noheadings raw verbose core? data? nice? fsize? sigpending? memlock? rss? "
                        + "nofile? msgqueue? rtprio? stack? cpu? nproc? as? locks? rttime? help version"),
                wraps: Wrapping(inert: ["p", "pid"])),
            "setarch": Program(.wrapper(longs: setarchLongs), wraps: Wrapping(start: 2)),
            "script": Program(
                OptionSyntax(
                    short: "cEIOBTmo", optional: "t",
                    longs: "command= log-in= log-out= log-io= log-timing= logging-format= echo= output-limit= "
                        + "timing? append return flush force quiet help version"),
                wraps: Wrapping(runs: .nothing, text: ["c", "command"])),
            // su [options] [-] [USER [ARG...]]: -c runs its text through USER's shell; runuser -u USER CMD runs
            // CMD itself. Both read options anywhere (GNU getopt permutes).
            "su": Program(
                OptionSyntax(
                    short: "csgGw",
                    longs: "command= session-command= shell= group= supp-group= whitelist-environment= "
                        + "preserve-environment login fast pty help version"),
                wraps: Wrapping(runs: .own(.su), text: ["c", "command", "session-command"], defaultUser: "root")),
            "runuser": Program(
                OptionSyntax(
                    short: "csgGwu",
                    longs: "user= command= session-command= shell= group= supp-group= whitelist-environment= "
                        + "preserve-environment login fast pty help version"),
                wraps: Wrapping(
                    runs: .own(.su), text: ["c", "command", "session-command"], user: ["u", "user"],
                    defaultUser: "root")),
            // findutils
            "find": Program(
                OptionSyntax(singleDashLong: true, leadingOperandsOnly: true),
                wraps: Wrapping(runs: .own(.find), commandOptions: ["exec", "execdir", "ok", "okdir"]),
                operandsBelow: ["delete"]),
            "xargs": Program(
                .wrapper(
                    short: "aEdILnPs", optional: "eil",
                    longs: "arg-file= delimiter= max-args= max-procs= max-chars= process-slot-var= max-lines? eof? "
                        + "replace? null no-run-if-empty interactive verbose exit open-tty show-limits help version"),
                wraps: Wrapping(replace: ["i", "I", "replace"], otherwise: ["echo"])),
            // procps
            "watch": Program(
                .wrapper(
                    short: "nq", optional: "d",
                    longs: "interval= equexit= differences? beep color errexit chgexit precise no-title no-wrap exec "
                        + "help version"),
                wraps: Wrapping(runs: .text, asOperands: ["x", "exec"])),
            // sudo, doas
            "sudo": Program(
                .wrapper(
                    short: "aCcDgpRrTtUu", optional: "h",
                    longs: "user= group= close-from= chdir= host= prompt= role= type= command-timeout= other-user= "
                        + "chroot= askpass background bell edit list login non-interactive preserve-env? "
                        + "preserve-groups remove-timestamp reset-timestamp set-home shell stdin validate help "
                        + "version"),
                wraps: Wrapping(
                    assignments: true,
                    inert: [
                        "e", "l", "v", "V", "K", "edit", "list", "validate", "version", "help", "remove-timestamp",
                    ],
                    asText: ["s", "i", "shell", "login"], chdir: ["D", "chdir"], user: ["u", "user"],
                    defaultUser: "root")),
            "doas": Program(
                .wrapper(short: "aCu"), wraps: Wrapping(inert: ["C", "L"], user: ["u"], defaultUser: "root")),
            // GNU parallel: `parallel [options] [CMD] ::: ARGS`, options before the command (require_order).
            "parallel": Program(
                .wrapper(
                    short: "aCdEIjnNPsSLW", optional: "ilex",
                    longs: "arg-file= colsep= delimiter= eof? replace? jobs= max-procs= max-lines? max-args= "
                        + "max-chars= sshlogin= sshloginfile= slf= basefile= bf= workdir= wd= tmpdir= results= res= "
                        + "joblog= timeout= delay= retries= load= memfree= tagstring= header= env= transfer-file= "
                        + "tf= return= halt= limit= termseq= rpl= ssh= filter= arg-sep= arg-file-sep= shellquote "
                        + "quote dry-run dryrun keep-order group ungroup line-buffer tag verbose pipe pipepart block= "
                        + "recend= recstart= regexp null no-run-if-empty xargs halt-on-error= nice= progress bar eta "
                        + "citation will-cite version help"),
                wraps: Wrapping(runs: .own(.parallel), inert: ["dry-run", "dryrun"], replace: ["I", "i", "replace"])),
            // Shell builtins and the others.
            "time": Program(
                .wrapper(
                    short: "fo", longs: "format= output= append verbose quiet portability help version"),
                wraps: Wrapping()),
            "command": Program(.wrapper(), wraps: Wrapping(inert: ["v", "V"])),
            "builtin": Program(OptionSyntax(optionsFirst: true), wraps: Wrapping()),
            "exec": Program(.wrapper(short: "a"), wraps: Wrapping()),
            "eval": Program(OptionSyntax(optionsFirst: true), wraps: Wrapping(runs: .text)),
            "busybox": Program(.plain, wraps: Wrapping(runs: .own(.busybox))),
            "cpulimit": Program(
                .wrapper(
                    short: "lpe", longs: "limit= pid= exe= path= cpu= lazy include-children verbose help"),
                wraps: Wrapping()),
            // git runs what the aliases its own `-c` options define stand for.
            "git": Program(
                OptionSyntax(
                    short: "CcmFbBoSXe",
                    long: ["git-dir", "work-tree", "namespace", "config-env", "message", "file", "repo"],
                    implications: [
                        // `-c clean.requireForce=false`: git clean deletes without -f.
                        Implication(
                            trigger: .config(option: 0x63, key: "clean.requireforce"),
                            values: ["false", "no", "off", "0", ""], subcommand: "clean",
                            implies: .named("f", "force")),
                        // `-c remote.NAME.mirror=true`: git push to it behaves as --mirror (a forced push of every ref).
                        Implication(
                            trigger: .config(option: 0x63, key: "remote.*.mirror"),
                            values: ["true", "yes", "on", "1"], subcommand: "push", implies: .named("mirror")),
                    ]),
                wraps: Wrapping(runs: .own(.git)), hosts: Hosting(.git)),
        ]
        let strace = Program(
            .wrapper(
                short: "abeEIoOpPsSuUXn",
                longs: "output= signal= trace= trace-path absolute-timestamps abbrev attach columns "
                    + "const-print-style daemonize debug decode-fds decode-pids detach-on env failed-only fault "
                    + "follow-forks inject instruction-pointer interruptible kvm no-abbrev output-append-mode "
                    + "output-separately quiet raw read relative-timestamps seccomp-bpf stack-traces status "
                    + "string-limit strings-in-hex successful-only summary summary-columns summary-only "
                    + "summary-sort-by summary-syscall-overhead summary-wall-clock syscall-number syscall-times tips "
                    + "user verbose write help version"),
            wraps: Wrapping(inert: ["p"]))
        t["strace"] = strace
        t["ltrace"] = strace
        // setarch's personality names run as it, with their options first.
        for arch in ["linux32", "linux64", "i386", "x86_64", "uname26"] {
            t[arch] = Program(.wrapper(longs: setarchLongs), wraps: Wrapping())
        }
        shells(&t)
        return t
    }()

    static let setarchLongs =
        "help version verbose 3gb 4gb uname-2.6 addr-no-randomize fdpic-funcptrs mmap-page-zero addr-compat-layout "
        + "read-implies-exec 32bit short-inode whole-seconds sticky-timeouts list"

    /// The shells, as each reads its options (tested against the real shells in ShellGrammarTests): bash takes
    /// `-o`/`-O` values from the next words and goes on with the bundle; zsh takes the rest of the bundle
    /// (`-oerrexit`), else the next word, and `--emulate NAME`.
    private static func shells(_ t: inout [String: Program]) {
        let shell = Wrapping(runs: .shell)
        for name in ["bash", "rbash"] {
            t[name] = Program(.shell(values: "oO", long: ["rcfile", "init-file"], followBundle: true), wraps: shell)
        }
        for name in ["sh", "dash", "ash", "posh", "yash"] {
            t[name] = Program(.shell(values: "o", followBundle: true), wraps: shell)
        }
        for name in ["ksh", "mksh", "lksh"] {
            t[name] = Program(.shell(values: "oT", followBundle: true), wraps: shell)
        }
        t["zsh"] = Program(.shell(values: "o", long: ["emulate"], followBundle: false), wraps: shell)
    }
}
