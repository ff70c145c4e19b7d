"""The demo company (华锐精机 Huarui Precision Machinery) that `pledge demo` loads: static data and loader."""
