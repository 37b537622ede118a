"""Product search on 100,000 products: three ways to match what a person typed against folded text.

Issue 15 item 6 asked to measure before choosing. Every way matches each typed word as a substring of the folded
(case- and accent-free, see ``core/catalog/search.py``) sku, title, brand and tags:

- ``column``: one folded text column per product, ``LIKE '%word%'`` (a scan of one narrow column);
- ``tag table``: folded sku/title/brand column plus a normalised tag table (one row per product tag), the tag
  side as ``id IN (SELECT product_id FROM product_tags WHERE folded LIKE ?)``;
- ``fts5 trigram``: an FTS5 index with the trigram tokenizer over the same folded text (substring MATCH for words
  of 3+ characters; shorter words fall back to the column scan, as trigram cannot index them);
- ``fts5 + column``: the index for the longest word only, the other words checked with LIKE on the rows it found.

This compares designs, so it talks to SQLite directly (the app's own SQL stays in ``core/catalog``).
Run: ``python bench/bench_search.py [--products 100000]``. Prints build seconds and median milliseconds per query.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import time

from stylerec_desktop.core.catalog.search import fold, like_pattern

WORDS = ["dress", "shirt", "café", "linen", "wool", "denim", "summer", "noir", "crème", "jacket", "boot", "silk",
         "floral", "stripe", "coat", "scarf", "knit", "velvet", "piqué", "bag"]  # fmt: skip
WAYS = ("column", "tag table", "fts5 trigram", "fts5 + column")
QUERIES = ["cafe", "CRÈME", "linen dress", "pique bag", "ab", "%", "zzz-nothing", "velvet noir coat"]


def build(n: int, seed: int = 0) -> sqlite3.Connection:
    rng = random.Random(seed)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT, folded_all TEXT, folded_main TEXT)")
    db.execute("CREATE TABLE product_tags (product_id INTEGER, folded TEXT, PRIMARY KEY (product_id, folded))")
    rows, tags = [], []
    for i in range(n):
        sku = f"SKU-{i:06d}"
        title = " ".join(rng.sample(WORDS, 3)).title()
        brand = rng.choice(["Maison É", "Nord", "Akira", "Lumen"])
        product_tags = rng.sample(WORDS, 2)
        main = fold(f"{sku}\n{title}\n{brand}")
        rows.append((i + 1, sku, main + "\n" + "\n".join(fold(t) for t in product_tags), main))
        tags += [(i + 1, fold(t)) for t in product_tags]
    db.executemany("INSERT INTO products VALUES (?, ?, ?, ?)", rows)
    db.executemany("INSERT OR IGNORE INTO product_tags VALUES (?, ?)", tags)
    db.execute("CREATE INDEX idx_tags_folded ON product_tags (folded)")
    return db


def build_fts(db: sqlite3.Connection) -> None:
    db.execute("CREATE VIRTUAL TABLE products_fts USING fts5(folded, content='', tokenize='trigram')")
    db.execute("INSERT INTO products_fts (rowid, folded) SELECT id, folded_all FROM products")


def query(db: sqlite3.Connection, way: str, text: str) -> list[int]:
    where, params = [], []
    words = fold(text).split()
    longest = max(words, key=len, default="")
    for word in words:
        like = like_pattern(word)
        if way == "column":
            where.append("folded_all LIKE ? ESCAPE '\\'")
            params.append(like)
        elif way == "tag table":
            where.append("(folded_main LIKE ? ESCAPE '\\' OR id IN "
                         "(SELECT product_id FROM product_tags WHERE folded LIKE ? ESCAPE '\\'))")  # fmt: skip
            params += [like, like]
        elif len(word) >= 3 and (way == "fts5 trigram" or word is longest):
            where.append("id IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?)")
            params.append('"' + word.replace('"', '""') + '"')
        else:
            where.append("folded_all LIKE ? ESCAPE '\\'")
            params.append(like)
    sql = "SELECT id FROM products" + (" WHERE " + " AND ".join(where) if where else "")
    return [r[0] for r in db.execute(sql, params)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    db = build(args.products)
    built = time.perf_counter() - start
    start = time.perf_counter()
    build_fts(db)
    fts_built = time.perf_counter() - start
    print(f"{args.products} products: tables {built:.1f} s (folding included), FTS5 trigram index {fts_built:.1f} s")
    print(f"{'query':<20}" + "".join(f"{w:>16}" for w in WAYS) + "   matches")
    for text in QUERIES:
        timings, counts = [], set()
        for way in WAYS:
            runs = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                found = query(db, way, text)
                runs.append(1000 * (time.perf_counter() - t))
            timings.append(statistics.median(runs))
            counts.add(len(found))
        same = "" if len(counts) == 1 else "  (ways disagree!)"
        print(f"{text!r:<20}" + "".join(f"{t:>13.1f} ms" for t in timings) + f"   {counts.pop()}{same}")


if __name__ == "__main__":
    main()
