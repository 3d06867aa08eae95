import XCTest

@testable import GuardCore

/// Issue 13 point 2 and issue 14 point 7: every program of coreutils, util-linux, findutils, procps, sudo/doas/su
/// and GNU parallel that runs a command given in its arguments is unwrapped through its one registry entry, its
/// options read as the program reads them; aliases a text defines are expanded where the shell expands them.
final class WrapperRegistryTests: XCTestCase {
    static let policy: Policy = {
        let yaml = """
            version: 1
            name: registry
            default: allow
            settings: { unknown_command: allow, unparsable: alert }
            rules:
              - id: rm-rf
                match: { command: rm, flags: [r|R|recursive, f|force] }
                action: kill
            """
        return try! Policy.load(yaml: yaml, file: "registry.yaml")
    }()

    func check(_ line: String) -> Action {
        Self.policy.evaluate(commandLine: line, cwd: "/work", workspace: "/work").action
    }

    /// The payloads of a command line of one simple command.
    func payloads(_ line: String) -> [Payload] {
        let c = ShellScript.parse(line).commands[0]
        return Wrappers.unwrap(names: [Paths.basename(c.argv[0])], argv: c.argv, unknown: c.unknown)
    }

    func exec(_ line: String, file: StaticString = #filePath, lineNo: UInt = #line) -> Payload.Exec? {
        guard case .exec(let e)? = payloads(line).first else {
            XCTFail("\(line): \(payloads(line))", file: file, line: lineNo)
            return nil
        }
        return e
    }

    func testEveryWrapperRunsTheCommandAfterItsOptions() {
        let lines = [
            // coreutils
            "env -u X -C /tmp A=1 rm -rf /v", "env -i - A=1 rm -rf /v", "env --chdir=/tmp rm -rf /v",
            "nice -n 5 rm -rf /v", "nice -10 rm -rf /v", "nice --adj 5 rm -rf /v", "nohup rm -rf /v",
            "timeout -s KILL 5 rm -rf /v", "timeout --sig KILL -k 1 5 rm -rf /v", "stdbuf -o L -eL rm -rf /v",
            "chroot --userspec=a:b /srv rm -rf /v", "runcon system_u:system_r:t:s0 rm -rf /v",
            "runcon -t unconfined_t rm -rf /v",
            // util-linux
            "setsid -f rm -rf /v", "ionice -c 3 -n7 rm -rf /v", "taskset 0x1 rm -rf /v", "taskset -c 0-3 rm -rf /v",
            "chrt -f 10 rm -rf /v", "chrt --sched-runtime 5 --deadline 0 rm -rf /v", "flock /tmp/l rm -rf /v",
            "flock -w 5 -E 9 /tmp/l rm -rf /v", "unshare -m -w / --fork rm -rf /v", "nsenter -t 1 -m -n rm -rf /v",
            "nsenter --target 1 --mount=/proc/1/ns/mnt -r rm -rf /v", "setpriv --reuid=0 --clear-groups rm -rf /v",
            "setpriv --nnp --reuid 0 -- rm -rf /v", "prlimit --nofile=1024 --core rm -rf /v",
            "prlimit -n1024 -c rm -rf /v", "setarch x86_64 -R rm -rf /v", "linux32 --addr-no-randomize rm -rf /v",
            "runuser -u bob -- rm -rf /v",
            // findutils, procps, sudo, doas, shells' builtins, others
            "watch -x rm -rf /v", "watch -n 1 --exec rm -rf /v", "sudo -u bob -D /tmp rm -rf /v",
            "sudo -R /srv -g wheel A=1 rm -rf /v", "sudo -E --preserve-env=PATH rm -rf /v", "doas -u bob rm -rf /v",
            "/usr/bin/time -f %e rm -rf /v", "command rm -rf /v", "exec -a name rm -rf /v", "builtin rm -rf /v",
            "cpulimit -l 50 rm -rf /v", "strace -f -o /tmp/t -e trace=all rm -rf /v", "ltrace -f rm -rf /v",
            "busybox rm -rf /v",
        ]
        for line in lines {
            XCTAssertEqual(exec(line)?.argv, ["rm", "-rf", "/v"], line)
            XCTAssertEqual(check(line), .kill, line)
        }
        XCTAssertEqual(exec("env -C /tmp rm -rf v")?.chdir, "/tmp")
        XCTAssertEqual(exec("sudo -D /srv rm -rf v")?.chdir, "/srv")
        XCTAssertEqual(exec("unshare -w /etc rm -rf v")?.chdir, "/etc")
        XCTAssertEqual(exec("env -S 'rm -rf' /v")?.argv, ["rm", "-rf", "/v"])
        XCTAssertEqual(exec("env -C /tmp --split-string='rm -rf' /v")?.chdir, "/tmp")
        XCTAssertEqual(exec("xargs -0 -n 1 -P4 rm -rf")?.argv, ["rm", "-rf"])
        XCTAssertEqual(exec("xargs")?.argv, ["echo"])
        XCTAssertEqual(exec("xargs -I X rm -rf X")?.unknown, [2])
        XCTAssertEqual(exec("xargs -i rm -rf {}")?.unknown, [2])
        XCTAssertEqual(check("printf '/v' | xargs rm -rf"), .kill)
        XCTAssertEqual(check("find /v -name x -exec rm -rf {} +"), .kill)
        XCTAssertEqual(check("find /v -okdir rm -rf {} ';'"), .kill)
    }

    func testTheUserAPayloadRunsAs() {
        XCTAssertEqual(exec("setpriv --reuid=0 rm -rf /v")?.user, "0")
        XCTAssertEqual(exec("setpriv --euid bob rm -rf /v")?.user, "bob")
        XCTAssertEqual(exec("sudo rm -rf /v")?.user, "root")
        XCTAssertEqual(exec("sudo --user=bob rm -rf /v")?.user, "bob")
        XCTAssertEqual(exec("doas rm -rf /v")?.user, "root")
        XCTAssertEqual(exec("runuser -u bob rm -rf /v")?.user, "bob")
        XCTAssertEqual(payloads("su - bob -c 'rm -rf /v'"), [.script("rm -rf /v", user: "bob")])
        XCTAssertEqual(payloads("su -c 'rm -rf /v'"), [.script("rm -rf /v", user: "root")])
        XCTAssertNil(exec("nice rm -rf /v")?.user)
    }

    func testShellTextPayloads() {
        for (line, text) in [
            ("watch 'rm -rf /v'", "rm -rf /v"), ("watch -n 1 rm -rf /v", "rm -rf /v"), ("eval rm -rf /v", "rm -rf /v"),
            ("script -qc 'rm -rf /v' /dev/null", "rm -rf /v"), ("script /dev/null -c 'rm -rf /v'", "rm -rf /v"),
            ("script --command='rm -rf /v' log", "rm -rf /v"), ("flock /tmp/l -c 'rm -rf /v'", "rm -rf /v"),
            ("flock -n /tmp/l --command 'rm -rf /v'", "rm -rf /v"), ("sudo -s rm -rf /v", "rm -rf /v"),
            ("sudo -i -u bob rm -rf /v", "rm -rf /v"), ("runuser -c 'rm -rf /v' bob", "rm -rf /v"),
        ] {
            guard case .script(let t, _)? = payloads(line).first else {
                XCTFail("\(line): \(payloads(line))")
                continue
            }
            XCTAssertEqual(t, text, line)
            XCTAssertEqual(check(line), .kill, line)
        }
        // `script LOG CMD` writes to LOG and runs a shell: CMD is a second file name, not a command.
        XCTAssertEqual(payloads("script log rm"), [])
    }

    func testOptionsThatRunNoCommand() {
        for line in [
            "sudo -l rm -rf /v", "sudo -v", "sudo --list rm -rf /v", "ionice -p 5", "ionice -c3 -p 5 6",
            "taskset -p 1 5", "taskset --pid 1 5", "chrt -p 5", "setpriv -d", "prlimit -p 5 --nofile=10",
            "command -v rm", "doas -C /etc/doas.conf rm", "strace -p 5", "sudo", "nohup", "timeout 5",
        ] {
            XCTAssertEqual(payloads(line), [], line)
            XCTAssertEqual(check(line), .allow, line)
        }
        // An option of the payload is the payload's: `ionice -c3 rm -p` runs rm.
        XCTAssertEqual(exec("ionice -c3 rm -rf -p /v")?.argv, ["rm", "-rf", "-p", "/v"])
        XCTAssertEqual(check("taskset 1 rm -rf --pid /v"), .kill)
    }

    func testGNUParallelRunsItsCommandOncePerArgument() {
        XCTAssertEqual(payloads("parallel rm -rf ::: /v"), [.script("rm -rf /v", user: nil)])
        XCTAssertEqual(
            payloads("parallel -j4 'rm -rf {}' ::: /v /w"),
            [.script("rm -rf /v", user: nil), .script("rm -rf /w", user: nil)])
        XCTAssertEqual(payloads("parallel ::: 'rm -rf /v'"), [.script("rm -rf /v", user: nil)])
        XCTAssertEqual(payloads("parallel rm -rf {1}/{2} ::: /a ::: b"), [.script("rm -rf /a/b", user: nil)])
        XCTAssertEqual(payloads("parallel -I R rm -rf R/x ::: /v"), [.script("rm -rf /v/x", user: nil)])
        for line in [
            "parallel rm -rf ::: /v", "parallel --jobs 2 rm -rf ::: a /v", "parallel 'rm -rf' ::: /v",
            "parallel -q rm -rf ::: /v", "parallel echo ::: a ::: b ::: c /v | true; parallel rm -rf :::: list",
            "ls | parallel rm -rf",
        ] {
            XCTAssertEqual(check(line), .kill, line)
        }
        XCTAssertEqual(check("parallel echo ::: a b"), .allow)
        XCTAssertEqual(check("parallel --dry-run rm -rf {} ::: /v"), .allow)
        XCTAssertEqual(check("parallel gzip ::: *.log"), .allow)
    }

    func testAliasesDefinedOnAnEarlierLineAreExpanded() {
        XCTAssertEqual(check("alias r='rm -rf'\nr /v"), .kill)
        XCTAssertEqual(check("alias r='rm -rf' l='ls -l'\nl; r /v"), .kill)
        XCTAssertEqual(check("alias a=b\nalias b='rm -rf'\na /v"), .kill)
        XCTAssertEqual(check("alias x='cd /; rm -rf'\nx /v"), .kill)
        XCTAssertEqual(check("alias s='sudo'\ns rm -rf /v"), .kill)
        XCTAssertEqual(check("bash -c \"alias r='rm -rf'\nr /v\""), .kill)
        // A shell reads a whole line before it runs it: the alias is not yet defined (the real shells say so:
        // `bash -c "shopt -s expand_aliases; alias r='echo x'; r"` runs a command named r).
        XCTAssertEqual(check("alias r='rm -rf'; r /v"), .allow)
        XCTAssertEqual(check("alias r='rm -rf'\nunalias r\nr /v"), .allow)
        XCTAssertEqual(check("alias r='ls'\nr -rf /v"), .allow)
        // An alias that names itself expands once.
        XCTAssertEqual(check("alias rm='rm -i'\nrm -r /v"), .allow)
        XCTAssertEqual(check("alias rm='rm -f'\nrm -r /v"), .kill)
    }

    func testEveryWrapperNameHasOneRegistryEntry() {
        for name in Wrappers.names {
            XCTAssertNotNil(Programs.lookup(name)?.wraps, name)
        }
        for name in ["setpriv", "parallel", "runcon", "prlimit", "setarch", "linux32", "unshare", "nsenter"] {
            XCTAssertTrue(Wrappers.wraps(name), name)
        }
        XCTAssertEqual(
            Wrappers.shells, ["sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh", "rbash", "lksh"])
        // The walker reads a wrapper's long options as getopt_long does: `--sig` is `--signal`, which takes a value.
        let p = ParsedArgs(
            argv: ["timeout", "--sig", "KILL", "5", "rm"], syntax: OptionSyntax.lookup("timeout"), unknown: [],
            recording: true)
        XCTAssertEqual(p.options.map(\.name), ["signal"])
        XCTAssertEqual(p.optionsEnd, 3)
    }
}
