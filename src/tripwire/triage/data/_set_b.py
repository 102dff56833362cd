# ruff: noqa: E501  (report texts are data: split mid-sentence they would be harder to review)
"""Set B: reports written separately from set A, each whole and by hand, in styles set A does not
use (issue forms, long narratives, terse tickets, chat, other languages' code and tooling). It is
used only to evaluate: nothing here is ever trained on, and no set A opener, closer or paste is
reused, so a score on it says how the classifier does on reports it was not shaped around."""

from __future__ import annotations

# (category, language, text)
SET_B: list[tuple[str, str, str]] = [
    # --- compilation_error
    (
        "compilation_error",
        "en",
        "**Expected:** builds\n**Actual:** `dotnet build` -> CS1002: ; "
        "expected (Program.cs, 41)\n**Steps:** paste the suggested class, build",
    ),
    (
        "compilation_error",
        "en",
        "kotlinc: Unresolved reference: launch. it never imported the "
        "coroutines package so the module stays red",
    ),
    (
        "compilation_error",
        "en",
        "So I pasted the Swift view it gave me into Xcode and immediately "
        "got 'Expected expression in list of expressions' on the closing parenthesis, plus a second "
        "complaint about a missing argument label. I didn't get as far as the simulator.",
    ),
    (
        "compilation_error",
        "en",
        "scala 3 rejects the given instance, `found: Int, required: String`, sbt compile fails",
    ),
    (
        "compilation_error",
        "en",
        "ghc: parse error on input '='. the where-clause is indented wrong",
    ),
    (
        "compilation_error",
        "en",
        "pasted the elixir module, mix says `(SyntaxError) unexpected reserved word: end`",
    ),
    (
        "compilation_error",
        "en",
        "the header and the .cpp disagree on the method signature so "
        "nothing links. undefined reference to `Foo::bar(int)`",
    ),
    (
        "compilation_error",
        "en",
        "tried to run the py file, python points a caret at the lambda "
        "and refuses. didn't execute a single statement",
    ),
    (
        "compilation_error",
        "en",
        "my typescript project went from 0 to 212 red squiggles after "
        "accepting the suggestion. `tsc --noEmit` agrees",
    ),
    (
        "compilation_error",
        "en",
        "the perl has an unbalanced quote so the rest of the script is a string. perl -c says so",
    ),
    ("compilation_error", "en", "beautiful code. shame javac can't read it"),
    ("compilation_error", "en", "ts: cannot redeclare block-scoped variable 'data'. build stops"),
    (
        "compilation_error",
        "en",
        "the dart snippet is missing a `required` keyword, flutter "
        "won't even hot reload, the analyzer rejects it",
    ),
    (
        "compilation_error",
        "de",
        "Xcode meldet 'Cannot convert value of type', das Projekt baut nicht mehr",
    ),
    (
        "compilation_error",
        "es",
        "al compilar con javac me salen tres errores de tipos incompatibles y no genera el .class",
    ),
    (
        "compilation_error",
        "fr",
        "rustc refuse de compiler : durée de vie manquante sur la référence retournée",
    ),
    (
        "compilation_error",
        "es",
        "el archivo de Go no pasa de `go build`, variable declarada y no usada",
    ),
    (
        "compilation_error",
        "de",
        "mit dem Vorschlag kommt mein C++ nicht mehr durch den Compiler, "
        "fehlendes Semikolon nach der Klasse",
    ),
    (
        "compilation_error",
        "fr",
        "impossible de lancer le script python, il y a une parenthèse en "
        "trop et l'interpréteur refuse",
    ),
    # --- runtime_error
    (
        "runtime_error",
        "en",
        "**Expected:** list of users\n**Actual:** "
        "System.NullReferenceException: Object reference not set to an instance of an object at "
        "UserService.Load()",
    ),
    (
        "runtime_error",
        "en",
        "kotlin.KotlinNullPointerException the moment the fragment is "
        "recreated after rotating the phone",
    ),
    (
        "runtime_error",
        "en",
        "It builds, it starts, I upload a csv and the worker process is "
        "gone. Logs say `Killed` and dmesg mentions the oom killer. It reads the whole 8 GB file "
        "into a list.",
    ),
    (
        "runtime_error",
        "en",
        "elixir: ** (FunctionClauseError) no function clause matching in "
        "Parser.parse/1 when the line is blank",
    ),
    ("runtime_error", "en", "the php page now shows 'Fatal error: Allowed memory size exhausted'"),
    (
        "runtime_error",
        "en",
        "when 2 requests come in at the same time the Go service dies with 'concurrent map writes'",
    ),
    ("runtime_error", "en", "haskell: Prelude.head: empty list. happens on the first empty input"),
    (
        "runtime_error",
        "en",
        "clicking 'export' gives a white screen and the console is full of red",
    ),
    (
        "runtime_error",
        "en",
        "works on my mac, on the server it dies at startup because libssl.so.1.1 can't be loaded",
    ),
    ("runtime_error", "en", "10/10 would run again. it lasted 3 seconds before dumping core"),
    (
        "runtime_error",
        "en",
        "the scala job fails in the second stage with java.util.NoSuchElementException: None.get",
    ),
    (
        "runtime_error",
        "en",
        "after a few minutes the socket handler goes down with 'broken "
        "pipe' and nothing restarts it",
    ),
    (
        "runtime_error",
        "en",
        "IndexError: list index out of range, line 57, whenever a row has fewer columns",
    ),
    (
        "runtime_error",
        "de",
        "Sobald ich auf Speichern klicke, stürzt die App ab, ohne Fehlermeldung",
    ),
    (
        "runtime_error",
        "es",
        "el servicio arranca pero muere con una excepción de puntero nulo "
        "en cuanto llega la primera petición",
    ),
    (
        "runtime_error",
        "fr",
        "le programme plante avec une erreur de segmentation quand le fichier est vide",
    ),
    ("runtime_error", "es", "da un error de índice fuera de rango al procesar la última fila"),
    (
        "runtime_error",
        "fr",
        "à l'exécution : TypeError, impossible de lire la propriété 'id' de undefined",
    ),
    ("runtime_error", "de", "Das Skript bricht nach ein paar Sekunden mit einem Speicherfehler ab"),
    # --- logic_error
    (
        "logic_error",
        "en",
        "**Expected:** 15% tax on 100 = 115\n**Actual:** 100.15\n"
        "It adds the rate as a number instead of a percentage.",
    ),
    (
        "logic_error",
        "en",
        "the C# LINQ query uses First() so only one order per customer is "
        "ever counted in the report",
    ),
    (
        "logic_error",
        "en",
        "I asked for a function to check if two rectangles overlap. It "
        "runs fine, but it says two rectangles that only touch at a corner overlap, and it says "
        "two rectangles where one is fully inside the other do not. Both are backwards from what "
        "any geometry book says.",
    ),
    ("logic_error", "en", "the kotlin pagination returns page 2 twice and never page 3"),
    ("logic_error", "en", "swift: temperatures converted C->F come out as F->C"),
    (
        "logic_error",
        "en",
        "the password check accepts an empty password if the username is "
        "admin. that can't be intended",
    ),
    (
        "logic_error",
        "en",
        "the php function calculates age from birth year only so everyone "
        "born in december is a year older than they are",
    ),
    ("logic_error", "en", "the queue it wrote is LIFO, it pops from the end"),
    ("logic_error", "en", "gcd(0, 5) returns 0, should be 5"),
    ("logic_error", "en", "the haskell fold starts from 1 so the sum of an empty list is 1"),
    ("logic_error", "en", "it executes perfectly and confidently tells me 17 is not prime. great"),
    (
        "logic_error",
        "en",
        "the cron expression fires every minute of hour 5 instead of once at 5:00",
    ),
    ("logic_error", "en", "the percentages in the chart add up to 130"),
    ("logic_error", "en", "the scala code groups by the wrong key so every group has one item"),
    (
        "logic_error",
        "de",
        "Die Funktion liefert bei leerer Liste 1 statt 0, die Berechnung stimmt nicht",
    ),
    (
        "logic_error",
        "es",
        "el cálculo del IVA sale mal, suma el porcentaje en vez de multiplicarlo",
    ),
    ("logic_error", "fr", "la fonction dit que 2024 n'est pas une année bissextile"),
    (
        "logic_error",
        "de",
        "Die Sortierung vertauscht gleiche Elemente und die Reihenfolge ist danach falsch",
    ),
    ("logic_error", "es", "corre bien pero los totales por mes no coinciden con la base de datos"),
    ("logic_error", "fr", "la boucle saute un élément sur deux, le total est donc faux"),
    # --- incomplete_code
    (
        "incomplete_code",
        "en",
        "**Expected:** the full controller\n**Actual:** the first two "
        "actions and then `// more actions...`",
    ),
    (
        "incomplete_code",
        "en",
        "the kotlin data class is there, the repository and the viewmodel it talks about aren't",
    ),
    (
        "incomplete_code",
        "en",
        "I asked for a small tetris in pygame. I got the window setup, a "
        "comment saying '# game loop goes here', and a function called rotate_piece whose body is "
        "a single ellipsis. Nothing to run really.",
    ),
    ("incomplete_code", "en", "answer stops at `public static void main(String[] args) {`"),
    ("incomplete_code", "en", "there's no closing ``` and the last function is half a line"),
    (
        "incomplete_code",
        "en",
        "the swift struct has the properties and none of the methods it "
        "mentions in the explanation",
    ),
    ("incomplete_code", "en", "the elixir genserver has init/1 and nothing for handle_call"),
    (
        "incomplete_code",
        "en",
        "'you can fill in the remaining validation rules yourself'. thanks I guess",
    ),
    ("incomplete_code", "en", "the php class implements one of the four interface methods"),
    (
        "incomplete_code",
        "en",
        "The bash install script downloads the tarball and then... ends. no extract, no copy",
    ),
    ("incomplete_code", "en", "got the first 60 lines of the file, then the message simply ends"),
    (
        "incomplete_code",
        "en",
        "every method in the C# service says `throw new NotImplementedException();`",
    ),
    (
        "incomplete_code",
        "en",
        "the README it promised along with the code never arrived, and the second file neither",
    ),
    ("incomplete_code", "de", "Der Code bricht nach der Hälfte ab, die letzte Methode ist leer"),
    ("incomplete_code", "es", "me dio solo la mitad del script, termina en medio de un bucle"),
    ("incomplete_code", "fr", "il manque la fin : la fonction principale n'est jamais écrite"),
    ("incomplete_code", "de", "Nur Platzhalter-Kommentare statt Implementierung"),
    ("incomplete_code", "es", "la respuesta se corta y el bloque de código queda abierto"),
    ("incomplete_code", "fr", "il a écrit les tests mais pas le code à tester"),
    # --- incorrect_api_usage
    (
        "incorrect_api_usage",
        "en",
        "**Expected:** works with Retrofit 2\n**Actual:** it calls "
        "`Retrofit.create(Service)` on the builder, and `.baseUrl()` comes after `.build()`",
    ),
    (
        "incorrect_api_usage",
        "en",
        "`File.ReadAllTextAsync(path, true)`? the second parameter "
        "is an encoding or a token, not a bool",
    ),
    (
        "incorrect_api_usage",
        "en",
        "The Swift code uses `URLSession.shared.get(url)`. I "
        "searched Apple's docs for a good ten minutes: there is no such method, you need "
        "dataTask or data(from:).",
    ),
    (
        "incorrect_api_usage",
        "en",
        "php: it calls `str_contains($needle, $haystack)`, the order is haystack first",
    ),
    (
        "incorrect_api_usage",
        "en",
        "Enum.map with the function first and the list second, "
        "elixir's Enum takes the enumerable first",
    ),
    (
        "incorrect_api_usage",
        "en",
        "it uses `Data.Map.insertWith` with the arguments of "
        "`insert`, ghc complains about the number of arguments",
    ),
    ("incorrect_api_usage", "en", "useState(0)[2]? there are only two elements in what it returns"),
    ("incorrect_api_usage", "en", "the kotlin code calls `list.push(x)`. kotlin lists have add"),
    (
        "incorrect_api_usage",
        "en",
        "`pd.DataFrame.to_excel(path, sheet='A')`, the keyword is sheet_name",
    ),
    (
        "incorrect_api_usage",
        "en",
        "it keeps suggesting `openai.Completion.create`, which is the pre-1.0 client",
    ),
    (
        "incorrect_api_usage",
        "en",
        "apparently `Math.clamp` exists in javascript now. news to me and to node",
    ),
    (
        "incorrect_api_usage",
        "en",
        "it passes a dict to `logging.basicConfig(handlers=...)` "
        "where a list of handler objects goes",
    ),
    (
        "incorrect_api_usage",
        "en",
        "uses `docker.containers.start(image)` from the python sdk, that's containers.run",
    ),
    (
        "incorrect_api_usage",
        "de",
        "Der Code ruft in React eine Methode auf, die es so nicht "
        "gibt: this.setState wird im Funktionskomponenten benutzt",
    ),
    (
        "incorrect_api_usage",
        "es",
        "usa parámetros de una versión vieja de la librería, ahora se llaman distinto",
    ),
    ("incorrect_api_usage", "fr", "il utilise `list.push` en Python, cette méthode n'existe pas"),
    ("incorrect_api_usage", "de", "Falsche Argumente für requests.post, json und data vertauscht"),
    ("incorrect_api_usage", "es", "el método que llama en la SDK de AWS no existe, se lo inventó"),
    ("incorrect_api_usage", "fr", "mauvais usage de l'API fetch : l'option 'json' n'existe pas"),
    # --- instructions_not_followed
    (
        "instructions_not_followed",
        "en",
        "**Expected:** Kotlin (as stated in the prompt)\n**Actual:** Java",
    ),
    ("instructions_not_followed", "en", "prompt said 'no LINQ' and the answer is 100% LINQ"),
    (
        "instructions_not_followed",
        "en",
        "I gave very precise constraints: standard library "
        "only, one function, no classes, and keep my variable names. The answer has three classes, "
        "depends on attrs, and renamed everything to something 'more descriptive'.",
    ),
    ("instructions_not_followed", "en", "wanted swiftui, it's uikit"),
    ("instructions_not_followed", "en", "I asked for a regex, it wrote a whole parser"),
    (
        "instructions_not_followed",
        "en",
        "the system prompt says answer in french and it answered in english",
    ),
    (
        "instructions_not_followed",
        "en",
        "I pinned the version to php 7.4 in the question, the code uses enums from 8.1",
    ),
    ("instructions_not_followed", "en", "asked to only review the code, it rewrote it"),
    (
        "instructions_not_followed",
        "en",
        "very kind of it to add a docker setup. I asked about a typo in a comment",
    ),
    ("instructions_not_followed", "en", "I said elixir, got erlang"),
    (
        "instructions_not_followed",
        "en",
        "the answer should have been a single SQL query, it "
        "gave me a python loop with several queries",
    ),
    ("instructions_not_followed", "en", "I requested camelCase, everything is snake_case"),
    (
        "instructions_not_followed",
        "en",
        "told it the max line length is 80, half the lines are 120",
    ),
    ("instructions_not_followed", "de", "Ich wollte die Lösung in Kotlin, bekommen habe ich Java"),
    ("instructions_not_followed", "es", "le pedí que no usara librerías externas y usó pandas"),
    (
        "instructions_not_followed",
        "fr",
        "j'avais demandé une réponse courte, il a écrit trois pages",
    ),
    (
        "instructions_not_followed",
        "de",
        "Die Vorgabe war, nur die eine Funktion zu ändern, "
        "stattdessen wurde die ganze Datei umgeschrieben",
    ),
    ("instructions_not_followed", "es", "pedí la respuesta en español y contestó en inglés"),
    (
        "instructions_not_followed",
        "fr",
        "je voulais du Rust sans unsafe, il y a des blocs unsafe partout",
    ),
    # --- performance_regression
    (
        "performance_regression",
        "en",
        "**Expected:** ~1s completions (as last week)\n**Actual:** 6-9s, same prompts",
    ),
    (
        "performance_regression",
        "en",
        "the c# suggestions were sharp in october, now they miss obvious things",
    ),
    (
        "performance_regression",
        "en",
        "We have a nightly job that asks for refactor "
        "suggestions on 2,000 files. It used to finish before 3 am; since the new model went live "
        "on Thursday it is still running when people arrive at 9.",
    ),
    (
        "performance_regression",
        "en",
        "typing in the IDE feels sticky now, suggestions arrive after I've already typed the line",
    ),
    (
        "performance_regression",
        "en",
        "since v2.3 kotlin answers are clearly worse, it forgets null safety all the time",
    ),
    ("performance_regression", "en", "429s and 30s waits all afternoon"),
    ("performance_regression", "en", "ttft is 5x what it was"),
    (
        "performance_regression",
        "en",
        "the sql it writes is right but scans the whole table "
        "now, the old suggestion used the index",
    ),
    (
        "performance_regression",
        "en",
        "honestly the model from last month was better at swift, the new one is a step back",
    ),
    (
        "performance_regression",
        "en",
        "I can read the answer faster than it streams it, not the case before",
    ),
    ("performance_regression", "en", "our eval scores dropped 12 points after your rollout"),
    ("performance_regression", "en", "love waiting 40 seconds for a docstring"),
    (
        "performance_regression",
        "en",
        "something changed around the 14th: more retries, longer waits, worse code",
    ),
    ("performance_regression", "de", "Die Antworten kommen seit gestern viel langsamer"),
    (
        "performance_regression",
        "es",
        "desde la última versión las respuestas son peores y tardan más",
    ),
    ("performance_regression", "fr", "le modèle est beaucoup plus lent depuis lundi"),
    ("performance_regression", "de", "Die Vorschläge sind schlechter als noch vor zwei Wochen"),
    (
        "performance_regression",
        "es",
        "cada petición tarda unos veinte segundos, antes era instantáneo",
    ),
    (
        "performance_regression",
        "fr",
        "la qualité du code généré s'est dégradée depuis la nouvelle version",
    ),
    # --- other
    ("other", "en", "**Feature request:** let me pin a conversation"),
    ("other", "en", "Do you have a student discount?"),
    (
        "other",
        "en",
        "I have been using the assistant for about three months on a mid-sized "
        "Django project and overall I'm happy; mostly writing to say the onboarding emails are too "
        "frequent and I'd like fewer of them.",
    ),
    ("other", "en", "the settings page doesn't remember my theme"),
    ("other", "en", "🙂🙂"),
    ("other", "en", "n/a"),
    ("other", "en", "good answer, no complaints"),
    ("other", "en", "which regions do you host in? GDPR question"),
    ("other", "en", "can I get an invoice with my company's VAT number"),
    ("other", "en", "please add SSO with Okta"),
    ("other", "en", "the mobile app logs me out every day"),
    ("other", "en", "just testing the feedback button"),
    ("other", "en", "what's the context window size?"),
    ("other", "de", "Gibt es einen Rabatt für gemeinnützige Organisationen?"),
    ("other", "es", "muy buena herramienta, gracias"),
    ("other", "fr", "où puis-je trouver la documentation de l'API ?"),
    ("other", "de", "Alles gut, nur ein Test"),
    ("other", "es", "¿cómo cambio el idioma de la interfaz?"),
    ("other", "fr", "je n'arrive pas à me connecter avec mon compte Google"),
]
