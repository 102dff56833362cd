"""Shapes of real files that the audit misjudged when the planted sets drew them from a Debian
machine's own files (ucf's ``setq``, debconf's ``confmodule.sh``, e2fsprogs' ``e2scrub_all``, a
Nepali translation table in npm, a cut ``zipimport.py``, a cut ``error.js`` of npm, a Perl
module cut inside its POD): each as the file has it, with the case that must still be caught."""

from __future__ import annotations

import pytest

from tripwire.data import analyse
from tripwire.data._hazards import tree_hazards
from tripwire.data._unfinished import ends_unfinished
from tripwire.data.checks._quality import quality_signals
from tripwire.data.checks._truncated import cut_identifier, open_pod_code

SETQ = 'setq() {\n    eval "$1=\\"\\$2\\"";\n}\nsetq pkg "$1" "The Package name"\n'
CONFMODULE = (
    'for i in "capb CAPB" "set SET"; do\n'
    "    set -- $i\n"
    '    eval "db_$1 () { _command \\"$2 \\$@\\"; }"\n'
    "done\n"
)
PIPED_READ = 'lsblk -P | while read vars ; do\n    eval "${vars}"\ndone\n'


@pytest.mark.parametrize("code", [SETQ, CONFMODULE, PIPED_READ], ids=["setq", "set--", "piped"])
def test_eval_of_what_the_script_itself_made_is_a_flag(code):
    assert [h.rule for h in tree_hazards(code, "shell")] == ["sh/eval-variable"]


@pytest.mark.parametrize(
    "code",
    [
        'eval "$1"\n',
        'eval "${1}"\n',
        'read cmd\neval "$cmd"\n',
        'run() { eval "$1"; }\nrun "$@"\n',
        'run() { eval "$2"; }\nrun x "$1"\n',
    ],
    ids=["arg", "braced", "read", "passed-all", "passed-one"],
)
def test_eval_of_the_scripts_arguments_or_input_is_injection(code):
    assert [h.rule for h in tree_hazards(code, "shell")] == ["sh/eval"]


def test_letters_of_other_scripts_are_not_noise():
    table = (
        "module.exports = {\n"
        + "".join(f"  key{i}: '{{{{time}}}} सेकेण्ड अघि',\n" for i in range(20))
        + "}\n"
    )
    assert "low_alphanumeric" not in quality_signals(table)
    banner = "# " + "=-*#~+|/\\<>" * 30 + "\nx = 1\n"
    assert "low_alphanumeric" in quality_signals(banner * 3)


def test_a_word_cut_from_a_keyword_is_cut_mid_identifier():
    excerpt = "def _get():\n    global _z\n    if _z:\n        raise E('x')\n    _z = T"
    assert cut_identifier(excerpt, "python") == ("T", "True")
    # a complete name that occurs before, or a word no language name starts, is not
    assert cut_identifier("def f(s):\n    return s", "python") is None
    assert cut_identifier("x = 1\ny = qqq", "python") is None


def test_an_error_node_running_to_an_open_last_line_is_a_cut():
    code = (
        "function serializeError (input) {\n"
        "  const statusCode = input.statusCode ?? input.status\n"
        "  return {\n"
        "    errorType: input.errorType ?? input.constructor.name,\n"
        "    ...(input.stack ? { stack: input.stack } : {}),\n"
        "    // think of this as error code\n"
    )
    analysis = analyse(code, "javascript")
    assert not analysis.ok and ends_unfinished(code, "javascript", analysis)


def test_a_perl_text_cut_inside_a_pod_formatting_code():
    pod = "package X;\n1;\n__END__\n\n=head1 BUGS\n\nPlease report through L<http://rt.cp"
    assert open_pod_code(pod) == "L<http://rt.cp"
    assert open_pod_code(pod + "an.org>.\n") is None
    assert open_pod_code(pod + "an.org>.\n\n=cut\n") is None
    assert open_pod_code("=head1 X\n\nSee C<< a->b >> and L<Foo>.") is None
