# The quick start is `make run` and `make test`: either creates .venv on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYBABEL := $(BIN)/pybabel
POT := locales/messages.pot
LOCALE_DIRS := locales/id/LC_MESSAGES locales/en/LC_MESSAGES
MO := $(addsuffix /messages.mo,$(LOCALE_DIRS))

.PHONY: run test test-dates test-postgres lint structure simulate translations check-migrations migration bench \
	bench-conversation bench-surveys clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Compiled catalogs are build output: made from the .po files whenever those change.
locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(STAMP)
	$(PYBABEL) compile --statistics -D messages -d locales -l $* 2>&1 | grep -v "^compiling" || true
	test -f $@

run: $(STAMP) $(MO)
	$(BIN)/score-bot run

simulate: $(STAMP) $(MO)
	$(BIN)/score-bot simulate

# SQLite: one database file per test, so the suite runs on TEST_WORKERS processes at once
# (pytest-xdist). Against PostgreSQL (TEST_DATABASE_URL set) the tests share one database:
# serially. Three on two cores: the process tests mostly wait on real seconds (a bot starting,
# a server answering), so a third worker fills that time (measured: 121 s against 155-179 s).
TEST_WORKERS ?= 3
test: $(STAMP) $(MO)
	$(BIN)/pytest $(if $(TEST_DATABASE_URL),,-n $(TEST_WORKERS) --dist worksteal)

# The date-sensitive tests (marked `dates`) with the clock at instants that break calendars:
# the first working day of a month just before and after 09:00 WIB, the 20th at 23:59 WITA
# (a round closed in one zone and not in another), New Year's Eve 23:30 WIB (2027 already in
# WIT), 29 February, and a day of cuti bersama around Idul Fitri 2027.
DATE_INSTANTS := 2027-02-01T08:59:00+07:00 2027-02-01T09:01:00+07:00 \
	2027-01-20T23:59:00+08:00 2026-12-31T23:30:00+07:00 2028-02-29T10:00:00+07:00 \
	2027-03-12T10:00:00+07:00
test-dates: $(STAMP) $(MO)
	@for at in $(DATE_INSTANTS); do \
		echo "== the clock at $$at"; \
		TEST_CLOCK_START=$$at $(BIN)/pytest -m dates -q -p no:cacheprovider \
			-n $(TEST_WORKERS) --dist worksteal || exit 1; \
	done

# The same suite against PostgreSQL (CI runs this after `make test`).
test-postgres: $(STAMP) $(MO)
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test} \
		$(BIN)/pytest

# Style and bugs (ruff), types (mypy) and the layers (import-linter), on the product code
# and its tests.
LINTED := bot chat config db domain handlers jobs sandbox services rendering tests tools
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy
	$(BIN)/lint-imports

# Which package imports which, read off the code: the drawing in docs/architecture.md.
structure: $(STAMP)
	$(BIN)/python -m tools.import_structure

# After changing user-visible strings: extract, merge into both catalogs, compile.
# English is the source language: its empty entries are filled with the msgid.
translations: $(STAMP)
	$(PYBABEL) extract -F locales/babel.cfg -k N_ --no-location --sort-output \
		--project "SCORE Assistant" -o $(POT) .
	$(PYBABEL) update --no-fuzzy-matching -D messages -i $(POT) -d locales
	$(BIN)/python -m bot.catalogs fill-en
	$(PYBABEL) compile --statistics -D messages -d locales

check-migrations: $(STAMP)
	$(BIN)/alembic check

# After changing db/models.py: make migration m="what changed"
migration: $(STAMP)
	$(BIN)/alembic revision --autogenerate -m "$(m)"

# Benchmarks (docs/benchmarks.md), about 12 minutes; not part of `make test`.
# All always run; the target fails if any did. `make bench BENCH_DB=postgres` uses the
# PostgreSQL database `bench` on 127.0.0.1 (its schema is recreated; never `test`), or
# BENCH_DATABASE_URL.
BENCH_DB ?= sqlite
bench: $(STAMP) $(MO)
	status=0; \
	$(BIN)/python -m benchmarks.outbox_pacing || status=1; \
	$(BIN)/python -m benchmarks.outbox_capacity --db $(BENCH_DB) || status=1; \
	$(BIN)/python -m benchmarks.conversation --db $(BENCH_DB) || status=1; \
	$(BIN)/python -m benchmarks.survey_round --db $(BENCH_DB) || status=1; \
	$(BIN)/python -m benchmarks.survey_conversation --db $(BENCH_DB) || status=1; \
	exit $$status

# The conversation benchmark alone (about 30 s): the bot against a bare PTB echo bot.
bench-conversation: $(STAMP) $(MO)
	$(BIN)/python -m benchmarks.conversation --db $(BENCH_DB)

# The survey benchmarks alone (about 2 minutes): opening a pulse round for 30,000 workers,
# then 50 workers answering it at once against a bare PTB echo bot, the /kpi chart, memory.
bench-surveys: $(STAMP) $(MO)
	status=0; \
	$(BIN)/python -m benchmarks.survey_round --db $(BENCH_DB) || status=1; \
	$(BIN)/python -m benchmarks.survey_conversation --db $(BENCH_DB) || status=1; \
	exit $$status

clean:
	rm -rf $(VENV) .pytest_cache $(MO)
