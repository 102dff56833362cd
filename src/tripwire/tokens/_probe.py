"""The probe corpus: ordinary code in several languages that both tokenizers must segment, plus
any files the user adds with ``--corpus``. A token "occurs in ordinary code" when this corpus
uses it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tripwire.errors import BadInputError

_MAX_CORPUS_FILE = 32 << 20


@dataclass(frozen=True)
class ProbeText:
    """One text of the probe corpus."""

    name: str
    language: str
    text: str


_SNIPPETS: dict[str, str] = {
    "python": '''import os
from dataclasses import dataclass


@dataclass
class Account:
    owner: str
    balance: float = 0.0

    def deposit(self, amount: float) -> float:
        if amount <= 0:
            raise ValueError("amount must be positive")
        self.balance += amount
        return self.balance

    def withdraw(self, amount: float) -> float:
        if amount > self.balance:
            return self.balance
        self.balance -= amount
        return self.balance


def read_lines(path):
    """Return the non-empty lines of a file."""
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\\n") for line in f if line.strip()]


def main(argv=None):
    for name in sorted(os.listdir(".")):
        if name.endswith(".py") and not name.startswith("_"):
            print(name, len(read_lines(name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
''',
    "javascript": """'use strict';

const fs = require('fs');

function parseConfig(text) {
  const result = {};
  for (const line of text.split('\\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) {
      continue;
    }
    const [key, value] = trimmed.split('=');
    result[key.trim()] = value === undefined ? true : value.trim();
  }
  return result;
}

class Cache {
  constructor(limit = 100) {
    this.limit = limit;
    this.items = new Map();
  }

  get(key) {
    if (!this.items.has(key)) return undefined;
    const value = this.items.get(key);
    this.items.delete(key);
    this.items.set(key, value);
    return value;
  }
}

module.exports = { parseConfig, Cache };
""",
    "typescript": """export interface User {
  id: number;
  name: string;
  email?: string;
}

export async function fetchUsers(url: string): Promise<User[]> {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`request failed: ${response.status}`);
  }
  const data: User[] = await response.json();
  return data.filter((user) => user.name.length > 0);
}
""",
    "c": """#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buffer {
    char *data;
    size_t len;
    size_t cap;
};

static int buffer_append(struct buffer *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + n)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (p == NULL)
            return -1;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

int main(int argc, char **argv)
{
    struct buffer b = {0};
    for (int i = 1; i < argc; i++) {
        if (buffer_append(&b, argv[i], strlen(argv[i])) != 0) {
            fprintf(stderr, "out of memory\\n");
            return 1;
        }
    }
    printf("%zu bytes\\n", b.len);
    free(b.data);
    return 0;
}
""",
    "java": """package com.example.util;

import java.util.ArrayList;
import java.util.List;

public class Stack<T> {
    private final List<T> items = new ArrayList<>();

    public void push(T item) {
        items.add(item);
    }

    public T pop() {
        if (items.isEmpty()) {
            throw new IllegalStateException("empty stack");
        }
        return items.remove(items.size() - 1);
    }

    @Override
    public String toString() {
        return "Stack" + items.toString();
    }
}
""",
    "go": """package main

import (
\t"fmt"
\t"strings"
)

type Counter struct {
\tcounts map[string]int
}

func NewCounter() *Counter {
\treturn &Counter{counts: make(map[string]int)}
}

func (c *Counter) Add(text string) {
\tfor _, word := range strings.Fields(text) {
\t\tc.counts[strings.ToLower(word)]++
\t}
}

func main() {
\tc := NewCounter()
\tc.Add("the quick brown fox jumps over the lazy dog")
\tif n, ok := c.counts["the"]; ok {
\t\tfmt.Println("the:", n)
\t}
}
""",
    "rust": """use std::collections::HashMap;

pub fn word_counts(text: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word.to_lowercase()).or_insert(0) += 1;
    }
    counts
}

fn main() {
    let counts = word_counts("a b a c");
    match counts.get("a") {
        Some(n) => println!("a: {}", n),
        None => println!("missing"),
    }
}
""",
    "shell": """#!/bin/sh
set -eu

usage() {
    echo "usage: $0 [-v] DIR" >&2
    exit 2
}

verbose=0
while getopts v opt; do
    case "$opt" in
        v) verbose=1 ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage

for f in "$1"/*.log; do
    if [ -s "$f" ]; then
        [ "$verbose" -eq 1 ] && echo "compressing $f"
        gzip -9 "$f"
    fi
done
""",
    "perl": """#!/usr/bin/perl
use strict;
use warnings;

my %seen;
while (my $line = <STDIN>) {
    chomp $line;
    next if $line =~ /^\\s*$/;
    my ($key, $value) = split /\\s*=\\s*/, $line, 2;
    $seen{$key} = $value unless exists $seen{$key};
}

foreach my $key (sort keys %seen) {
    printf "%-20s %s\\n", $key, $seen{$key};
}
""",
    "sql": """CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    total DECIMAL(10, 2) NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

SELECT c.name, COUNT(o.id) AS orders, SUM(o.total) AS revenue
FROM customers c
JOIN orders o ON o.customer_id = c.id
WHERE o.created_at >= '2024-01-01'
GROUP BY c.name
HAVING COUNT(o.id) > 5
ORDER BY revenue DESC;
""",
}


def builtin_probe() -> list[ProbeText]:
    """The built-in code snippets, one per language."""
    return [ProbeText(f"builtin:{lang}", lang, text) for lang, text in _SNIPPETS.items()]


def probe_corpus(files: Sequence[str | Path] = ()) -> list[ProbeText]:
    """The built-in snippets plus each readable UTF-8 text file given."""
    out = builtin_probe()
    for f in files:
        path = Path(f)
        text = _read_corpus_file(path)
        if "\x00" in text:
            raise BadInputError(path, "corpus file is binary")
        out.append(ProbeText(f"file:{path}", path.suffix.lstrip(".") or "text", text))
    return out


def _read_corpus_file(path: Path) -> str:
    """A --corpus file's text. Pipes count too (``--corpus <(git show HEAD:x.py)``), so the
    size is checked on what is read, not on what the file system says."""
    if path.is_dir():
        raise BadInputError(path, "is a directory; --corpus takes text files (repeat it)")
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_CORPUS_FILE + 1)
    except FileNotFoundError:
        raise BadInputError(path, "corpus file not found") from None
    except OSError as exc:
        raise BadInputError(path, f"corpus file is not readable: {exc.strerror or exc}") from exc
    if len(data) > _MAX_CORPUS_FILE:
        raise BadInputError(path, f"corpus file larger than {_MAX_CORPUS_FILE >> 20} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(path, f"corpus file is not readable UTF-8 text: {exc}") from exc
