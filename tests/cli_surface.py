"""The command line's surface: every subcommand's options with their defaults, types, choices and arity (help text aside)."""
import argparse


def surface(parser:argparse.ArgumentParser, path:str="") -> dict:
    "{'run': [...], 'bench run': [...], ...}: one entry per option of each (sub)command, in declaration order."
    out, subs = {}, []
    rows = []
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            subs += [(name, p) for name, p in a.choices.items()]
            continue
        if isinstance(a, (argparse._HelpAction, argparse._VersionAction)): continue
        t = a.type.__name__ if a.type is not None else None
        rows.append({"flags": list(a.option_strings) or [a.dest], "dest": a.dest, "default": repr(a.default), "type": t,
                     "choices": list(a.choices) if a.choices else None, "required": a.required, "nargs": a.nargs,
                     "action": type(a).__name__})
    out[path or "clawgym"] = rows
    for name, p in subs: out.update(surface(p, f"{path} {name}".strip()))
    return out
