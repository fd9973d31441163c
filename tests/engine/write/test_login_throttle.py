"""The log-in throttle's counts in the database: per account a few tries, then growing locks;
per address a far higher bar; a success clears the account and gives the address its try back.
On SQLite and PostgreSQL, with threads racing on one account."""
from __future__ import annotations

import threading
from datetime import timedelta

from engine.write import login_throttle
from engine.write.login_throttle import ACCOUNT, ACCOUNT_WIDE, ADDRESS

NAT = "10.1.2.3"


def test_an_account_gets_a_few_tries_then_growing_locks(kap12, clock):
    now = clock.now()
    for _ in range(ACCOUNT.free):
        assert login_throttle.begin_attempt(kap12.db, "ola", NAT, now) == 0
    # Locked from that address, and the refused tries are not counted; from another address
    # (Ola herself, at home) the account still answers: a guesser cannot lock her out.
    assert login_throttle.begin_attempt(kap12.db, "ola", NAT, now) == 30
    assert login_throttle.begin_attempt(kap12.db, " OLA ", NAT, now + timedelta(seconds=29)) == 1
    assert login_throttle.begin_attempt(kap12.db, "ola", "192.0.2.9", now) == 0
    # After the lock, one more try, and the next lock is twice as long.
    assert login_throttle.begin_attempt(kap12.db, "ola", NAT, now + timedelta(seconds=30)) == 0
    assert login_throttle.begin_attempt(kap12.db, "ola", NAT, now + timedelta(seconds=31)) == 59
    later = now + timedelta(seconds=90)
    for _ in range(12):
        login_throttle.begin_attempt(kap12.db, "ola", NAT, later)
        later += ACCOUNT.max_lock
    assert login_throttle.begin_attempt(kap12.db, "ola", NAT, later - ACCOUNT.max_lock) == 15 * 60  # capped
    # Other accounts from the same address are not touched.
    assert login_throttle.begin_attempt(kap12.db, "kari", NAT, now) == 0


def test_a_success_clears_the_account(kap12, clock):
    now = clock.now()
    for _ in range(ACCOUNT.free - 1):
        login_throttle.begin_attempt(kap12.db, "per", NAT, now)
    assert login_throttle.begin_attempt(kap12.db, "per", NAT, now) == 0
    login_throttle.succeeded(kap12.db, "per", NAT, now)
    for _ in range(ACCOUNT.free):
        assert login_throttle.begin_attempt(kap12.db, "per", NAT, now) == 0


def test_a_counter_forgets_after_a_quiet_day(kap12, clock):
    now = clock.now()
    for _ in range(ACCOUNT.free - 1):
        login_throttle.begin_attempt(kap12.db, "lise", NAT, now)
    quiet = now + ACCOUNT.forget_after
    for _ in range(ACCOUNT.free):
        assert login_throttle.begin_attempt(kap12.db, "lise", NAT, quiet) == 0


def test_an_address_has_a_far_higher_bar_and_successes_do_not_count(kap12, clock):
    now = clock.now()
    # A whole school logging in through one NAT, many times over: never slowed.
    for i in range(ADDRESS.free * 2):
        assert login_throttle.begin_attempt(kap12.db, f"elev{i % 40}", NAT, now) == 0
        login_throttle.succeeded(kap12.db, f"elev{i % 40}", NAT, now)
    # Guessing across many accounts from one address: slowed once the bar is reached.
    for i in range(ADDRESS.free):
        assert login_throttle.begin_attempt(kap12.db, f"offer{i}", "198.51.100.7", now) == 0
    assert login_throttle.begin_attempt(kap12.db, "nokon", "198.51.100.7", now) == 30
    assert login_throttle.begin_attempt(kap12.db, "nokon", NAT, now) == 0  # another address is not


def test_parallel_guesses_cannot_outrun_the_count(kap12, clock):
    now = clock.now()
    results: list[int] = []
    start = threading.Barrier(30)

    def guess():
        start.wait()
        results.append(login_throttle.begin_attempt(kap12.db, "rektor", NAT, now))

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(0) == ACCOUNT.free and len(results) == 30


def test_guesses_spread_over_many_addresses_meet_the_accounts_own_bar(kap12, clock):
    now = clock.now()
    tries = 0
    for n in range(ACCOUNT_WIDE.free):  # a handful from each of many addresses
        assert login_throttle.begin_attempt(kap12.db, "rektor", f"203.0.113.{n // 4}", now) == 0
        tries += 1
    assert tries == ACCOUNT_WIDE.free
    # Now locked from everywhere, the right password included, as before for five tries.
    assert login_throttle.begin_attempt(kap12.db, "rektor", "198.51.100.200", now) == 30
    assert login_throttle.begin_attempt(kap12.db, "kari", "198.51.100.200", now) == 0  # others untouched
    # Her own success, after the lock, clears the account everywhere.
    later = now + timedelta(seconds=30)
    assert login_throttle.begin_attempt(kap12.db, "rektor", NAT, later) == 0
    login_throttle.succeeded(kap12.db, "rektor", NAT, later)
    assert login_throttle.begin_attempt(kap12.db, "rektor", "203.0.113.0", later) == 0


def test_a_browser_known_for_the_account_is_counted_on_its_own(kap12, clock):
    """Locked everywhere and at her school's address by others' guesses, rektor still logs in
    from her own browser; a try from it is held to the account's few tries there alone."""
    now = clock.now()
    for n in range(ACCOUNT_WIDE.free):
        login_throttle.begin_attempt(kap12.db, "rektor", f"203.0.113.{n // 4}", now)
    for _ in range(ADDRESS.free):
        login_throttle.begin_attempt(kap12.db, f"elev{_}", NAT, now)  # a pupil on the school's network
    assert login_throttle.begin_attempt(kap12.db, "rektor", NAT, now) > 0
    assert login_throttle.begin_attempt(kap12.db, "rektor", NAT, now, device="hennes-nettleser") == 0
    login_throttle.succeeded(kap12.db, "rektor", NAT, now, device="hennes-nettleser")
    # A stolen cookie is no way round the count: five wrong tries, and that browser waits.
    for _ in range(ACCOUNT.free):
        assert login_throttle.begin_attempt(kap12.db, "rektor", "198.51.100.7", now, device="stjålet") == 0
    assert login_throttle.begin_attempt(kap12.db, "rektor", "198.51.100.8", now, device="stjålet") == 30
    assert login_throttle.begin_attempt(kap12.db, "rektor", NAT, now, device="hennes-nettleser") == 0
    # Others' guesses still count against the account everywhere else.
    assert login_throttle.begin_attempt(kap12.db, "rektor", "192.0.2.50", now) > 0
