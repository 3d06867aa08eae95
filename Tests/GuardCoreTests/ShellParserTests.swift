import XCTest

@testable import GuardCore

/// The shell parser extracts every simple command, with argv after quote removal and unknown words marked.
final class ShellParserTests: XCTestCase {
    private func argvs(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [[String]] {
        let s = ShellScript.parse(text)
        XCTAssertNil(s.error, "\(text): \(s.error!)", file: file, line: line)
        return s.commands.sorted { $0.offset < $1.offset }.map(\.argv)
    }

    func testQuotingForms() {
        XCTAssertEqual(argvs(#"echo 'a b' "c d" e\ f"#), [["echo", "a b", "c d", "e f"]])
        XCTAssertEqual(argvs(#"echo "a\"b" 'it'\''s' "\$x" "\\""#), [["echo", "a\"b", "it's", "$x", "\\"]])
        XCTAssertEqual(argvs(#"echo $'a\nb\t\x41\101\u00e9\'q'"#), [["echo", "a\nb\tAAé'q"]])
        XCTAssertEqual(argvs(#"echo "keep \n backslash""#), [["echo", "keep \\n backslash"]])
        XCTAssertEqual(argvs("echo a\\\nb"), [["echo", "ab"]])
        XCTAssertEqual(argvs(#"r"m" -r'f' /"#), [["rm", "-rf", "/"]])
    }

    func testWordsJoinedFromParts() {
        XCTAssertEqual(argvs(#"echo pre'mid'"post"$'\t'end"#), [["echo", "premidpost\tend"]])
    }

    func testOperatorsSplitCommands() {
        XCTAssertEqual(
            argvs("a 1; b 2 && c 3 || d 4 | e 5 |& f 6 & g 7\nh 8"),
            [["a", "1"], ["b", "2"], ["c", "3"], ["d", "4"], ["e", "5"], ["f", "6"], ["g", "7"], ["h", "8"]])
    }

    func testCommentsAreIgnored() {
        XCTAssertEqual(argvs("ls # rm -rf /\n# whole line\necho a#b"), [["ls"], ["echo", "a#b"]])
    }

    func testGroupsSubshellsAndSubstitutions() {
        XCTAssertEqual(argvs("( cd x && rm -rf . )"), [["cd", "x"], ["rm", "-rf", "."]])
        XCTAssertEqual(argvs("{ a; b; }"), [["a"], ["b"]])
        let s = ShellScript.parse("echo $(rm -rf /) `id -u` \"$(whoami)\"")
        XCTAssertNil(s.error)
        XCTAssertEqual(
            Set(s.commands.map(\.argv)),
            [["rm", "-rf", "/"], ["id", "-u"], ["whoami"], ["echo", "$(rm -rf /)", "`id -u`", "\"$(whoami)\""]])
        XCTAssertEqual(s.commands.filter(\.inSubstitution).count, 3)
        XCTAssertEqual(argvs("diff <(sort a) >(tee b)").count, 3)
    }

    func testNestedSubstitutionInBackquotes() {
        XCTAssertEqual(
            Set(argvs(#"echo `echo \`rm -rf /\``"#)),
            [["echo", "`echo \\`rm -rf /\\``"], ["echo", "`rm -rf /`"], ["rm", "-rf", "/"]])
    }

    func testAssignmentsAndRedirections() {
        let s = ShellScript.parse("A=1 B+=2 C[0]=x env >out 2>&1 </dev/null &>>log 3<>f {fd}>x cmd arg")
        XCTAssertNil(s.error)
        let c = s.commands[0]
        XCTAssertEqual(c.assignments, ["A=1", "B+=2", "C[0]=x"])
        XCTAssertEqual(c.argv, ["env", "cmd", "arg"])
        XCTAssertEqual(c.redirections.map(\.op), [">", ">&", "<", "&>>", "<>", ">"])
        XCTAssertEqual(c.redirections.map(\.target.text), ["out", "1", "/dev/null", "log", "f", "x"])
        XCTAssertEqual(c.redirections[1].fd, 2)
        XCTAssertEqual(argvs("a=(x y $(rm -rf /)) ls"), [["ls"], ["rm", "-rf", "/"]])
        XCTAssertEqual(argvs("echo a=b"), [["echo", "a=b"]])
    }

    func testHeredocs() {
        XCTAssertEqual(argvs("cat <<EOF\nrm -rf /\nEOF\nls"), [["cat"], ["ls"]])
        XCTAssertEqual(argvs("cat <<-'X'\n\t$(rm -rf /)\n\tX\nls"), [["cat"], ["ls"]])
        // An unquoted here-document expands its substitutions: they run.
        XCTAssertEqual(Set(argvs("cat <<EOF\n$(rm -rf /)\nEOF")), [["cat"], ["rm", "-rf", "/"]])
        XCTAssertEqual(argvs("cat <<A <<B\na\nA\nb\nB\necho done"), [["cat"], ["echo", "done"]])
        XCTAssertEqual(argvs("cat <<< 'here string'"), [["cat"]])
    }

    /// A simple command's here-document text is kept with its redirection (a shell without -c runs it).
    func testHeredocTextIsKeptWithItsCommand() {
        let s = ShellScript.parse("cat <<A <<-'B'; echo x <<C\none $X\nA\n\ttwo\n\tB\nthree\nC\nls <<< 'w'")
        XCTAssertEqual(s.commands.map(\.argv), [["cat"], ["echo", "x"], ["ls"]])
        XCTAssertEqual(s.commands[0].redirections.map(\.body), ["one $X\n", "\ttwo\n"])
        XCTAssertEqual(s.commands[1].redirections.map(\.body), ["three\n"])
        XCTAssertEqual(s.commands[0].stdinText().text, "\ttwo\n")  // the last redirection of stdin wins
        XCTAssertEqual(s.commands[2].stdinText().text, "w")
        XCTAssertEqual(ShellScript.parse("bash <<< \"$X\"").commands[0].stdinText().unknown, true)
        XCTAssertNil(ShellScript.parse("bash <<EOF < f\nx\nEOF\n").commands[0].stdinText().text)
        // Unterminated: the text runs to the end.
        XCTAssertEqual(ShellScript.parse("sh <<EOF\nrm -rf /").commands[0].redirections[0].body, "rm -rf /")
    }

    func testCompoundCommands() {
        XCTAssertEqual(
            argvs("if test -f x; then a; elif b; then c; else d; fi"),
            [["test", "-f", "x"], ["a"], ["b"], ["c"], ["d"]])
        XCTAssertEqual(argvs("while read l; do echo $l; done < f"), [["read", "l"], ["echo", "$l"]])
        XCTAssertEqual(argvs("until false; do sleep 1; done"), [["false"], ["sleep", "1"]])
        XCTAssertEqual(argvs("for f in a b; do rm $f; done"), [["rm", "$f"]])
        XCTAssertEqual(argvs("for ((i=0;i<3;i++)); do x; done"), [["x"]])
        XCTAssertEqual(argvs("select o in a b; do break; done"), [["break"]])
        XCTAssertEqual(argvs("case $x in a|b) one;; (c) two;& *) three;;& esac"), [["one"], ["two"], ["three"]])
        XCTAssertEqual(
            argvs("f() { rm -rf /; }; function g { ls; }; function h() ( pwd )"),
            [["rm", "-rf", "/"], ["ls"], ["pwd"]])
        XCTAssertEqual(argvs("! grep -q x f && time -p make"), [["grep", "-q", "x", "f"], ["make"]])
        XCTAssertEqual(argvs("[[ -f $(rm -rf /) && $a =~ ^(x|y)$ ]] && ok"), [["rm", "-rf", "/"], ["ok"]])
        XCTAssertEqual(argvs("(( i++ )) && echo ok"), [["echo", "ok"]])
    }

    func testUnknownWordsAreReportedNotGuessed() {
        let s = ShellScript.parse(#"$CMD -rf "$DIR" ${X:-y} $((1+2)) $(pwd)/x `date` ~/ok"#)
        XCTAssertNil(s.error)
        let c = s.commands.last!
        XCTAssertEqual(c.words.map(\.isKnown), [false, true, false, false, false, false, false, true])
        XCTAssertEqual(c.words[0].text, "$CMD")
        XCTAssertEqual(c.words[2].text, "\"$DIR\"")
        XCTAssertEqual(c.words[7].text, "~/ok")
        XCTAssertNil(c.words[0].value)
    }

    func testPipelinesAndFeeds() {
        let s = ShellScript.parse("curl -s x | tee log | sh; bash <(curl y)")
        XCTAssertNil(s.error)
        XCTAssertEqual(s.pipelines.count, 2)
        XCTAssertEqual(s.pipelines[0].stages.count, 3)
        let feed = s.pipelines[1]
        XCTAssertEqual(feed.stages[0].map { s.commands[$0].argv }, [["curl", "y"]])
        XCTAssertEqual(feed.stages[1].map { s.commands[$0].argv[0] }, ["bash"])
    }

    func testSyntaxErrorsKeepEarlierCommands() {
        for bad in [
            "echo 'open", "echo \"open", "ls &&", "ls |", "if x; then y", "( ls", "echo $(ls", "case x in", "; ls",
            "fi", "echo `x", "ls )", "for; do", "cat <", "a=(x",
        ] {
            let s = ShellScript.parse(bad)
            XCTAssertNotNil(s.error, bad)
        }
        let s = ShellScript.parse("rm -rf /; echo 'open")
        XCTAssertEqual(s.commands.first?.argv, ["rm", "-rf", "/"])
        XCTAssertTrue(s.error!.message.contains("unterminated single quote"), s.error!.message)
    }

    func testDepthAndLengthAreBounded() {
        let deep = String(repeating: "( ", count: 10_000) + "ls" + String(repeating: " )", count: 10_000)
        XCTAssertTrue(ShellScript.parse(deep).error!.message.contains("nesting deeper"))
        let braces = String(repeating: "{ ", count: 10_000) + "ls" + String(repeating: "; }", count: 10_000)
        XCTAssertTrue(ShellScript.parse(braces).error!.message.contains("nesting deeper"))
        // `((` opens arithmetic, which is skipped as a balanced whole whatever its depth.
        let arith = String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000)
        XCTAssertNil(ShellScript.parse(arith).error)
        let deepSubst = String(repeating: "$(", count: 5_000) + "ls" + String(repeating: ")", count: 5_000)
        XCTAssertNotNil(ShellScript.parse(deepSubst).error)
        let long = String(repeating: "a", count: ShellParser.maxLength + 1)
        XCTAssertTrue(ShellScript.parse(long).error!.message.contains("longer than"))
        XCTAssertEqual(ShellScript.parse(String(repeating: "a ", count: 100_000)).commands[0].words.count, 100_000)
    }

    func testEmptyAndBlankTexts() {
        XCTAssertEqual(argvs(""), [])
        XCTAssertEqual(argvs("  \n\t\n# only a comment"), [])
    }
}
