# ruff: noqa: E501  (report texts are data: split mid-sentence they would be harder to review)
"""What set A's users paste under their words: compiler output, tracebacks, snippets, timings.

Keyed by category because a paste is evidence of a kind (a traceback under a runtime report), but
several pastes deliberately cross over (an AttributeError under an API-misuse report, a passing
test run under a logic report) so the classifier cannot learn "traceback means runtime".
"""

from __future__ import annotations

PASTES: dict[str, list[str]] = {
    "compilation_error": [
        "  File \"main.py\", line 12\n    if x == 1\n             ^\nSyntaxError: expected ':'",
        "error[E0382]: borrow of moved value: `v`\n --> src/main.rs:9:20\n  |\n7 |     let w = v;"
        "\n  |             - value moved here",
        "main.c: In function 'main':\nmain.c:14:5: error: expected ';' before 'return'\n"
        "   14 |     return 0\n      |     ^~~~~~",
        "src/app.ts(23,7): error TS2322: Type 'string' is not assignable to type 'number'.",
        "Main.java:5: error: cannot find symbol\n    Helper.run(args);\n    ^\n  symbol:   variable "
        "Helper\n1 error",
        '# example.com/svc\n./main.go:8:2: "fmt" imported and not used\n./main.go:12:6: x '
        "declared and not used",
        "```\nfn parse(s: &str) -> Result<u32, String> {\n    s.parse::<u32>().map_err(|e| e)\n}\n```"
        "\nexpected `String`, found `ParseIntError`",
        "Module build failed (from ./node_modules/babel-loader/lib/index.js):\nSyntaxError: "
        "Unexpected token (14:8)",
    ],
    "runtime_error": [
        'Traceback (most recent call last):\n  File "run.py", line 31, in <module>\n    main()\n'
        '  File "run.py", line 22, in main\n    total += row["price"]\nKeyError: \'price\'',
        "TypeError: Cannot read properties of undefined (reading 'length')\n    at render "
        "(/app/src/list.js:18:25)\n    at processTicksAndRejections (node:internal/process/"
        "task_queues:95:5)",
        'Exception in thread "main" java.lang.NullPointerException: Cannot invoke '
        '"String.length()" because "name" is null\n\tat App.greet(App.java:14)',
        "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV:"
        " segmentation violation code=0x1 addr=0x0 pc=0x4a2b1c]\n\ngoroutine 1 [running]:",
        "thread 'main' panicked at src/main.rs:17:31:\ncalled `Result::unwrap()` on an `Err` "
        'value: Os { code: 2, kind: NotFound, message: "No such file or directory" }',
        "Segmentation fault (core dumped)",
        "```python\ndef mean(xs):\n    return sum(xs) / len(xs)\n\nmean([])\n```\n"
        "ZeroDivisionError: division by zero",
        "Fatal error: Uncaught Error: Call to a member function fetch() on bool in /var/www/db.php:9",
    ],
    "logic_error": [
        "```python\ndef is_even(n):\n    return n % 2 == 1\n```",
        "expected: [1, 2, 3, 4]\nactual:   [1, 2, 3]",
        "```js\nfor (let i = 0; i <= arr.length - 1; i++) if (arr[i] > max) max = arr[i + 1];\n```",
        "assert median([3, 1, 2]) == 2\nAssertionError: assert 1 == 2",
        "```sql\nSELECT customer_id, SUM(amount) FROM orders WHERE status != 'paid' GROUP BY 1;\n```\n"
        "(it's summing the unpaid ones)",
        "```go\nfor i := 1; i < len(xs); i++ {\n    total += xs[i]\n}\n```",
        "input 2024-02-28 + 1 day -> 2024-03-01 (should be 2024-02-29)",
        '```java\nif (age > 18) { return "adult"; }  // 18 year olds are adults too\n```',
    ],
    "incomplete_code": [
        "```python\nclass Cache:\n    def __init__(self, size):\n        self.size = size\n\n"
        "    def get(self, key):\n        # TODO\n```",
        "```js\nasync function sync(items) {\n  for (const item of items) {\n    const res = await",
        "```go\nfunc (s *Server) Handle(w http.ResponseWriter, r *http.Request) {\n\t// ...\n}\n```",
        "```rust\nimpl Parser {\n    pub fn new(src: &str) -> Self {\n        Self { src,",
        "```java\npublic List<User> findAll() {\n    // implementation here\n    return null;\n}\n```",
        '```json\n{"users": [{"id": 1, "name": "Ann"}, {"id": 2, "na',
        "```bash\n#!/bin/bash\nset -e\nfor f in *.csv; do\n```",
        "```sql\nCREATE TABLE orders (\n  id SERIAL PRIMARY KEY,\n```",
    ],
    "incorrect_api_usage": [
        "AttributeError: module 'pandas' has no attribute 'read_jsonl'",
        "TypeError: request() got an unexpected keyword argument 'body'",
        "```python\ndf = df.append(row, ignore_index=True)\n```",
        "```js\nconst flat = nested.flatmap(x => x);\n```",
        "```python\nimport requests\nr = requests.get(url, body=payload)\n```",
        "ModuleNotFoundError: No module named 'sklearn.cross_validation'",
        "```rust\nlet n = counts.get_or_default(&word);\n```",
        "```java\nfor (int i = 0; i < list.length(); i++) {\n```",
    ],
    "instructions_not_followed": [
        "my prompt: 'write this in Go, no third-party packages'",
        "```python\nimport numpy as np\n```\n(I said no numpy)",
        "```javascript\nfunction add(a, b) { return a + b }\n```\n(I asked for TypeScript)",
        "prompt was literally: 'only change the function on line 20'",
        "```python\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n```\n"
        "(the prompt said iterative)",
        "requested format: JSON. received: a markdown table.",
    ],
    "performance_regression": [
        "p50 1.2s -> 5.8s, p95 2.9s -> 14.1s (same prompts, same region)",
        "before: 48 tok/s\nafter:  19 tok/s",
        "504 Gateway Time-out\nnginx",
        "pass rate on our internal suite: 71% last week, 52% this week",
        "time-to-first-token: 0.4s on Monday, 3.1s today",
        "real    0m41.2s\nuser    0m40.8s\nsys     0m0.3s\n(the old version: real 0m1.9s)",
    ],
    "other": [
        "(screenshot attached)",
        "sent from my phone",
        "ticket #4411",
        "browser: Firefox 128, OS: Windows 11",
    ],
}

OPENERS = [
    "", "", "", "hey, ", "ugh. ", "Bug: ", "fyi ", "so ", "hi team, ", "Not great: ",
    "again... ", "quick one: ", "Hello, ", "@support ", "heads up: ", "honestly, ",
]  # fmt: skip
CLOSERS = [
    "", "", "", " pls fix", " thanks", " :(", " (python 3.11)", " see below", "!!",
    " happened twice today", " any idea?", ". Not the first time.", " -- sent from the IDE",
    " 🙃", " please look into it", ".",
]  # fmt: skip
OPENERS_I18N = {
    "de": ["", "Hallo, ", "Kurz: ", "Leider: "],
    "es": ["", "Hola, ", "Oye, ", "Buenas, "],
    "fr": ["", "Bonjour, ", "Salut, ", "Petit souci : "],
}
CLOSERS_I18N = {
    "de": ["", " Danke.", " Bitte prüfen.", "!"],
    "es": ["", " Gracias.", " ¿Alguna idea?", "!"],
    "fr": ["", " Merci.", " Une idée ?", "!"],
}
