"Systems families: seeds 0..19 pass the gates, and cheats (right file names, wrong content) score well below 1."
import pytest

from fam_cheats import assert_cheats_low, assert_gates

FAMILIES = ["log_error_summary", "ini_config_migration", "downloads_organizer", "backup_rotation", "crontab_edit"]

@pytest.mark.parametrize("name", FAMILIES)
def test_gates(name): assert_gates(name)

@pytest.mark.parametrize("name", FAMILIES)
def test_cheat_scores_low(name):
    # a migrated config with every number changed still has its strings and booleans right: that cheat only has to lose something
    assert_cheats_low(name, limits={"perturbed": 1.0} if name == "ini_config_migration" else None)

OLD_CRON = "e7ca88b"  # the last commit whose crontab checker returned bare numbers, without reasons

def _old_cron_checker() -> str:
    "CRON_CHECKER's text at OLD_CRON, taken from git (skips the test where the history is not there)."
    import re, subprocess
    from pathlib import Path
    r = subprocess.run(["git", "show", f"{OLD_CRON}:clawgym/synth/families/systems.py"], capture_output=True, text=True,
                       cwd=Path(__file__).parent)
    if r.returncode: pytest.skip(f"git cannot show commit {OLD_CRON}: {r.stderr.strip()[:200]}")
    parser = re.search(r"_CRON_PARSER = r'''(.*?)'''\n", r.stdout, re.S)[1]
    return parser + eval(re.search(r"CRON_CHECKER = _CRON_PARSER \+ (\(r'''.*?'''\))  #", r.stdout, re.S)[1])

def test_cron_reasons_keep_the_old_scores(tmp_path):
    "The crontab checker with reasons scores the reference, noop and cheat workspaces as the one without did."
    import re
    from clawgym.run.episode import run_episode
    from clawgym.synth.procedural import make_task
    old = _old_cron_checker()
    for seed in range(8):
        task = make_task("crontab_edit", seed)
        spec = re.search(r"SPEC = json.loads\((.*)\)\n", task.checker)[1]
        for policy in ("oracle", "noop", "cheat", "cheat:copy"):
            ws = tmp_path / f"{seed}-{policy.replace(':', '_')}"
            run_episode(task, policy, keep_workspace=ws)
            was, now = {}, {}
            exec(old.replace("__SPEC__", spec), was)
            exec(task.checker, now)
            new = now["grade"]([], str(ws))
            assert {k: v["score"] for k, v in new.items()} == was["grade"]([], str(ws)), (seed, policy, new)
            assert all(v["reason"] for v in new.values()), (seed, policy, new)
