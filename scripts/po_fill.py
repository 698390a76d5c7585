#!/usr/bin/env python
"""Fill an app's zh_Hans catalogue from a table of translations, then compile it.

    python scripts/po_fill.py academy/locale/zh_Hans/LC_MESSAGES/django.po translations.json

The JSON maps English msgids to Chinese msgstrs. Entries not in the table keep what they have; the script lists
the msgids that are still untranslated so none is forgotten. Needs polib (requirements-test.txt).
"""
import json
import sys

import polib


def main(po_path: str, table_path: str) -> int:
    table = json.loads(open(table_path, encoding="utf-8").read())
    catalogue = polib.pofile(po_path)
    for entry in catalogue:
        if entry.msgid in table:
            value = table[entry.msgid]
            if entry.msgid_plural:
                entry.msgstr_plural = {0: value if isinstance(value, str) else value[0]}
            else:
                entry.msgstr = value
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
    catalogue.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    catalogue.metadata["Language"] = "zh_Hans"
    catalogue.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    catalogue.save(po_path)
    catalogue.save_as_mofile(po_path[:-3] + ".mo")
    missing = [e.msgid for e in catalogue if not e.obsolete and not (e.msgstr or any(e.msgstr_plural.values()))]
    for msgid in missing:
        print("untranslated:", msgid)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
