import Foundation
import XCTest

@testable import GuardCore

/// `check`'s view of issue 12 class 4 (no root needed): path operands resolved as this process sees them, the
/// text where they do not exist. The live guard's view (its /proc root and mounts) is PathResolutionTests'.
final class PathResolutionUnitTests: XCTestCase {
    static let yaml = """
        version: 1
        name: paths-unit
        rules:
          - id: scratch-deletes
            match: { command: rm, paths: { under: ['${workspace}/scratch'] } }
            action: allow
          - id: rm-recursive-force
            match: { command: rm, flags: [r|R|recursive, f|force] }
            action: kill
          - id: ssh-keys
            match: { command: cat, paths: { under: ['~/.ssh-unit-test'] } }
            action: kill
        """

    var dir = ""
    var policy: Policy!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cg-u-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/scratch/sub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/victim/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/scratch/link", withDestinationPath: dir + "/victim")
        try FileManager.default.createSymbolicLink(
            atPath: dir + "/scratch/deep", withDestinationPath: dir + "/victim/sub")
        try FileManager.default.createSymbolicLink(atPath: dir + "/scratch/inner", withDestinationPath: "sub")
        policy = try Policy.load(yaml: Self.yaml, file: "t.yaml")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func verdict(_ line: String, workspace: String? = nil) -> Action {
        let ws = workspace ?? dir
        return policy.evaluate(commandLine: line, cwd: ws, workspace: ws, paths: PathWalker(cwd: ws)).action
    }

    func testSymlinksAndDotDotAreSeenThrough() {
        XCTAssertEqual(verdict("rm -rf scratch/link/"), .kill)
        XCTAssertEqual(verdict("rm -rf scratch/link/sub"), .kill)
        XCTAssertEqual(verdict("rm -rf scratch/deep/../sub"), .kill)
        XCTAssertEqual(verdict("cd scratch && rm -rf link/sub"), .kill)
        // As text all of these are under scratch: without a resolver they were allowed.
        XCTAssertEqual(policy.evaluate(commandLine: "rm -rf scratch/link/", cwd: dir, workspace: dir).action, .allow)
    }

    func testDeletesInsideScratchAreAllowed() {
        XCTAssertEqual(verdict("rm -rf scratch/sub"), .allow)
        XCTAssertEqual(verdict("rm -rf scratch/inner/../sub"), .allow)
        // The link itself, not what it points to.
        XCTAssertEqual(verdict("rm -rf scratch/link"), .allow)
        // What does not exist yet is judged as text.
        XCTAssertEqual(verdict("rm -rf scratch/not-yet/x"), .allow)
        XCTAssertEqual(verdict("rm -rf victim/not-yet"), .kill)
        // The workspace named through a symlink is still the workspace.
        let alias = dir + "-alias"
        XCTAssertNoThrow(try FileManager.default.createSymbolicLink(atPath: alias, withDestinationPath: dir))
        defer { try? FileManager.default.removeItem(atPath: alias) }
        XCTAssertEqual(verdict("rm -rf scratch/sub", workspace: alias), .allow)
        XCTAssertEqual(verdict("rm -rf \(alias)/scratch/sub", workspace: dir), .allow)
    }

    func testAMoveIntoScratchIsTheDeleteItEnables() {
        XCTAssertEqual(verdict("mv victim scratch/"), .kill)
        XCTAssertEqual(verdict("mv victim/sub scratch/renamed"), .kill)
        XCTAssertEqual(verdict("mv -t scratch victim"), .kill)
        XCTAssertEqual(verdict("mv --target-directory=scratch -- victim"), .kill)
        // mv's options as mv reads them (getopt_long: an unambiguous prefix; -T: DEST is the new name).
        XCTAssertEqual(verdict("mv --targ scratch victim"), .kill)
        XCTAssertEqual(verdict("mv -vt scratch victim"), .kill)
        XCTAssertEqual(verdict("mv --no-t victim scratch/new"), .kill)
        XCTAssertEqual(verdict("mv -f victim scratch/"), .kill)
        // Moves the policy's deletes judge alike are what they were.
        XCTAssertEqual(verdict("mv scratch/sub scratch/sub2"), .allow)
        XCTAssertEqual(verdict("mv victim/sub victim/sub2"), .allow)
        XCTAssertEqual(verdict("mv scratch/sub victim/"), .allow)
    }

    func testAnActingRuleReachesATreeThroughALink() throws {
        let home = Paths.home + "/.ssh-unit-test"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        try "k".write(toFile: home + "/id", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/keys", withDestinationPath: home)
        XCTAssertEqual(verdict("cat keys/id"), .kill)
        XCTAssertEqual(verdict("cat scratch/sub"), .allow)
    }
}
