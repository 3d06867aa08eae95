import Foundation
import GuardCore
import XCTest

/// Issue 12 class 4 on the real kernel: an allow rule for a scratch tree must not let `rm -rf` reach a victim
/// outside it through a symlink, `..` after a symlink, a bind mount (also in a private mount namespace) or a
/// move into scratch; paths are judged as the kernel resolves them for the process, and deletes that really
/// are inside scratch still run.
final class PathResolutionTests: XCTestCase {
    static let policy = Guard.testPolicy(
        "paths-test",
        rules: """
              - id: scratch-deletes
                match: { command: rm, paths: { under: ['${workspace}/scratch'] } }
                action: allow

            """ + Guard.rmRecursiveForce)

    var dir: URL!
    var scratch = ""
    var policyPath: String!
    /// Bind mounts made in this mount namespace, undone at teardown whatever happened.
    var mounts: [String] = []

    override func setUpWithError() throws {
        (dir, policyPath) = try Guard.policyDir(Self.policy)
        scratch = dir.appendingPathComponent("scratch").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        for m in mounts.reversed() { try? Guard.exec("/bin/umount", ["-l", m]) }
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// A victim directory outside scratch, with a file and a subdirectory.
    func victim() throws -> String {
        let v = dir.appendingPathComponent("victim-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: v.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try "precious".write(to: v.appendingPathComponent("file"), atomically: true, encoding: .utf8)
        return v.path
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// Runs argv under the guard from `cwd` (JSON events on stdout).
    func guarded(_ argv: [String], cwd: String? = nil) throws -> Guard.Result {
        let inner = cwd.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + argv } ?? argv
        return try Guard.run(
            ["run", "--policy", policyPath, "--workspace", dir.path, "--format", "json", "--"] + inner)
    }

    /// The run exited 0 with no violation logged.
    func assertAllowed(
        _ r: Guard.Result, _ what: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(r.status, 0, "\(what) refused:\n\(r.stdout)\n\(r.stderr)", file: file, line: line)
        XCTAssertFalse(
            Guard.jsonLines(r.stdout, file: file, line: line).contains { $0["rule"] != nil },
            "violation for \(what): \(r.stdout)", file: file, line: line)
    }

    func testASymlinkInScratchIntoTheVictimIsTheVictim() throws {
        for (operand, viaShell) in [
            ("link/", false), ("link/file", false), ("link/", true), ("link/sub/../file", true),
        ] {
            let v = try victim()
            let link = scratch + "/link"
            try? FileManager.default.removeItem(atPath: link)
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: v)
            let argv = ["rm", "-rf", operand]
            // Relative to the process's own directory (scratch), as the kernel resolves it.
            let r = try guarded(
                viaShell ? ["bash", "-c", shellJoin(argv)] : Guard.execv(["/bin/rm"] + argv.dropFirst()),
                cwd: scratch)
            Guard.assertKilled(
                r, v, "\(viaShell ? "bash -c " : "")rm -rf scratch/\(operand)", rule: "rm-recursive-force")
        }
    }

    func testDotDotAfterASymlinkLeavesScratch() throws {
        let v = try victim()
        // scratch/deep -> VICTIM/sub: scratch/deep/.. is the victim, though its text is scratch.
        try FileManager.default.createSymbolicLink(atPath: scratch + "/deep", withDestinationPath: v + "/sub")
        // (`cd -P`: the kernel's `..`, not the shell's text.)
        for text in ["rm -rf \(scratch)/deep/../file", "cd -P \(scratch)/deep/.. && rm -rf ./file"] {
            let r = try guarded(["bash", "-c", text])
            Guard.assertKilled(r, v, text, rule: "rm-recursive-force")
        }
        // The link made by the same script, after the shell's text was judged: the rm's own exec is resolved.
        let v2 = try victim()
        let text = "ln -s \(v2)/sub \(scratch)/deep2 && rm -rf \(scratch)/deep2/../file"
        Guard.assertKilled(try guarded(["bash", "-c", text]), v2, text, rule: "rm-recursive-force")
    }

    func testABindMountOfTheVictimInsideScratchIsNotScratch() throws {
        let v = try victim()
        let target = scratch + "/bound"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        XCTAssertEqual(try Guard.exec("/bin/mount", ["--bind", v, target]).status, 0)
        mounts.append(target)
        Guard.assertKilled(
            try guarded(Guard.execv(["/bin/rm", "-rf", target + "/file"])), v, "rm -rf scratch/bound/file",
            rule: "rm-recursive-force")
        Guard.assertKilled(
            try guarded(["bash", "-c", "rm -rf \(target)"]), v, "bash -c rm -rf scratch/bound",
            rule: "rm-recursive-force")
    }

    func testABindMountInAPrivateMountNamespaceIsSeen() throws {
        guard exists("/usr/bin/unshare") else { throw XCTSkip("no unshare") }
        let v = try victim()
        try FileManager.default.createDirectory(atPath: scratch + "/ns", withIntermediateDirectories: true)
        // The mount exists only in the child's namespace: only its /proc/PID/root shows it.
        let forms = [
            "mount --bind \(v) \(scratch)/ns && rm -rf \(scratch)/ns/file",
            // The victim mounted over scratch itself: scratch's top is no longer the directory the guard sees.
            "mount --bind \(v) \(scratch) && rm -rf \(scratch)/file",
        ]
        for text in forms {
            let r = try guarded(["/usr/bin/unshare", "-m", "--propagation", "private", "bash", "-c", text])
            Guard.assertKilled(r, v, "unshare -m: \(text)", rule: "rm-recursive-force")
        }
    }

    func testMovingTheVictimIntoScratchIsTheDeleteItEnables() throws {
        for form in ["mv V S/", "mv V S/renamed", "mv -t S V", "mv --target-directory=S -- V"] {
            let v = try victim()
            let text =
                form.replacingOccurrences(of: "V", with: v).replacingOccurrences(of: "S", with: scratch)
                + " && rm -rf \(scratch)/*"
            let r = try guarded(["bash", "-c", text])
            Guard.assertKilled(r, v, text, rule: "rm-recursive-force")
        }
    }

    func testDeletesThatAreInsideScratchStillRun() throws {
        let v = try victim()
        try FileManager.default.createSymbolicLink(atPath: scratch + "/to-victim", withDestinationPath: v)
        let text = """
            set -e
            mkdir -p \(scratch)/build/obj && touch \(scratch)/build/obj/a.o
            rm -rf \(scratch)/build
            mkdir -p \(scratch)/x/y && cd \(scratch)/x && rm -rf ./y ../x
            mkdir -p \(scratch)/m && mv \(scratch)/m \(scratch)/m2 && rm -rf \(scratch)/m2
            mkdir -p \(scratch)/sub/inner && ln -s inner \(scratch)/sub/l && rm -rf \(scratch)/sub/l/../inner
            rm -rf \(scratch)/to-victim
            """
        let r = try guarded(["bash", "-c", text])
        assertAllowed(r, "deletes inside scratch")
        XCTAssertFalse(exists(scratch + "/build"))
        XCTAssertFalse(exists(scratch + "/sub/inner"))
        // The link itself was removed, not what it pointed to.
        XCTAssertFalse(exists(scratch + "/to-victim"))
        XCTAssertTrue(exists(v + "/file"))
        // Moving out of a protected place into another unprotected one is no delete the policy judges.
        let w = try victim()
        let r2 = try guarded(["bash", "-c", "mv \(w)/file \(w)/file2 && mv \(w)/file2 \(w)/file"])
        assertAllowed(r2, "a rename outside scratch")
        XCTAssertTrue(exists(w + "/file"))
    }
}
