"""The minibatch worker for Python entry scripts.

Runs one entry script written for Azure ML's parallel job, unchanged: module-level init(),
run(mini_batch) or run(mini_batch, mini_batch_context), optional shutdown(); sys.argv holds
the bound program_arguments. It speaks the same messages as the Node worker, as JSON lines on
fd 3 (from the controller) and fd 4 (to it), so the script's stdout and stderr stay its own.
Standard library only, plus pandas when the input is a table.
"""
import importlib.util
import io
import json
import logging
import math
import os
import sys
import time
import traceback
import types

# inspect is imported only where used: ~15 ms of every worker's start-up.

_IN = os.fdopen(3, "r", encoding="utf-8")
_OUT = os.fdopen(4, "w", encoding="utf-8")

_MAX_HOLD_SECONDS = 0.002

_setup = None
_module = None
_run_arity = 1


def _send(message):
    _OUT.write(json.dumps(message, default=_json_default) + "\n")
    _OUT.flush()


def _error(exc, contract=False):
    return {"name": type(exc).__name__, "message": str(exc), "stack": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))}


class ContractError(Exception):
    """The script cannot be used at all: retrying will not help."""


def _load_script(setup):
    path = setup["entryScript"]
    code = setup["code"]
    sys.argv = [path] + list(setup["programArguments"])
    if code not in sys.path:
        sys.path.insert(0, code)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ContractError("entry script %s cannot be loaded as a Python module" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ContractError("entry script %s has a syntax error at %s:%s: %s" % (path, exc.filename, exc.lineno, exc.msg)) from exc
    except ImportError as exc:
        raise ContractError("entry script %s failed to import: %s (interpreter: %s)" % (path, exc, sys.executable)) from exc
    run = getattr(module, "run", None)
    if not callable(run):
        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        raise ContractError("entry script %s does not define a run function; expected def run(mini_batch) or def run(mini_batch, mini_batch_context) (it defines: %s)" % (path, ", ".join(names) or "nothing"))
    return module, _arity(run, path)


_CO_VARARGS = 0x04


def _arity(run, path):
    """1 for run(mini_batch), 2 for run(mini_batch, mini_batch_context)."""
    counts = _plain_parameter_counts(run)
    if counts is None:
        counts = _signature_parameter_counts(run)
    if counts is None:
        return 1
    positional, required, variadic = counts
    if variadic:
        return 2
    if required > 2 or positional == 0:
        raise ContractError("entry script %s: run takes %d parameters; expected run(mini_batch) or run(mini_batch, mini_batch_context)" % (path, positional))
    return 2 if positional >= 2 else 1


def _plain_parameter_counts(run):
    """(positional, required, *args) of a plain function or bound method, from its code object; None otherwise."""
    function, bound = (run.__func__, 1) if isinstance(run, types.MethodType) else (run, 0)
    # A decorated function (functools.wraps) or one with a declared signature: inspect follows those.
    if not isinstance(function, types.FunctionType) or hasattr(function, "__wrapped__") or hasattr(function, "__signature__"):
        return None
    code = function.__code__
    positional = max(0, code.co_argcount - bound)
    return positional, max(0, positional - len(function.__defaults__ or ())), bool(code.co_flags & _CO_VARARGS)


def _signature_parameter_counts(run):
    import inspect

    try:
        parameters = list(inspect.signature(run).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    return len(positional), len(required), any(p.kind == p.VAR_POSITIONAL for p in parameters)


class MiniBatchContext:
    """What run(mini_batch, mini_batch_context) receives, as in the reference."""

    def __init__(self, task, partition_key_value):
        self.minibatch_index = task["id"]
        self.attempt = task["attempt"]
        self.partition_key_value = partition_key_value
        self.dataset = None


def _read_range(path, start, end):
    with open(path, "rb") as handle:
        handle.seek(start)
        return handle.read(end - start)


def _pandas():
    try:
        import pandas
    except ImportError as exc:
        raise RuntimeError("tabular input needs pandas in the Python interpreter %s (pip install pandas, or choose another interpreter with --python / MINIBATCH_PYTHON)" % sys.executable) from exc
    return pandas


def _read_table(descriptor):
    """A DataFrame of the mini-batch's parts, read as pandas would read them; (frame, unreadable rows)."""
    pandas = _pandas()
    frames = []
    unreadable = 0
    for part in descriptor["parts"]:
        fmt = part["format"]
        if fmt == "delimited":
            data = _read_range(part["file"], part["start"], part["end"])
            options = part["options"]
            names = [column["name"] for column in part["columns"]]
            encoding = {"utf8": "utf-8", "latin1": "latin-1", "ascii": "ascii", "utf16le": "utf-16-le"}.get(options["encoding"], "utf-8")
            frame = pandas.read_csv(io.BytesIO(data), sep=options["delimiter"], header=None, names=names, encoding=encoding, on_bad_lines="skip", keep_default_na=not options.get("emptyAsString", False))
            unreadable += max(0, part["rows"] - len(frame))
        elif fmt == "json_lines":
            data = _read_range(part["file"], part["start"], part["end"])
            frame = pandas.read_json(io.BytesIO(data), lines=True)
        else:
            try:
                frame = pandas.read_parquet(part["file"])
            except ImportError as exc:
                raise RuntimeError("reading Parquet in Python needs pyarrow or fastparquet in %s" % sys.executable) from exc
            frame = frame.iloc[part["rowStart"]:part["rowEnd"]].reset_index(drop=True)
        for name, value in (part.get("pathColumns") or {}).items():
            frame[name] = value
        frames.append(frame)
    table = pandas.concat(frames, ignore_index=True) if len(frames) > 1 else (frames[0] if frames else pandas.DataFrame())
    shape = descriptor.get("shape") or {}
    if shape.get("keepColumns"):
        table = table[[c for c in table.columns if c in set(shape["keepColumns"])]]
    if shape.get("dropColumns"):
        table = table.drop(columns=[c for c in shape["dropColumns"] if c in table.columns])
    return table, unreadable


def _load(descriptor):
    # A file list is passed as the controller listed it: no check per file before every run()
    # (see load-mini-batch.ts); a file that vanished since is named if run() fails.
    if descriptor["kind"] == "files":
        return list(descriptor["files"]), 0
    return _read_table(descriptor)


def _vanished_input_file(descriptor):
    """After run() failed on a file list: the first file no longer there, as the error to report."""
    for path in descriptor["files"] if descriptor["kind"] == "files" else []:
        if not os.path.isfile(path):
            return "input file %s cannot be read: it no longer exists" % path
    return None


def _json_default(value):
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            pass
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    return str(value)


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _rows(returned, header):
    """The returned elements as JSON lines; a DataFrame's rows are lists (objects with a header)."""
    if returned is None:
        return "run() returned None; expected a list, tuple or DataFrame with one element per successful item (the reference fails such a mini-batch the same way)"
    if hasattr(returned, "to_dict") and hasattr(returned, "columns"):
        if header:
            records = [{str(k): _clean(v) for k, v in record.items()} for record in returned.to_dict("records")]
        else:
            records = [[_clean(v) for v in row] for row in returned.itertuples(index=False, name=None)]
        return records
    if hasattr(returned, "tolist") and not isinstance(returned, (str, bytes)):
        return list(returned.tolist())
    if isinstance(returned, (list, tuple)):
        return list(returned)
    if isinstance(returned, (str, bytes, dict)) or not hasattr(returned, "__iter__"):
        return "run() returned %s; expected a list, tuple or DataFrame with one element per successful item" % type(returned).__name__
    return list(returned)


def _run_task(task):
    started = time.perf_counter()
    try:
        data, unreadable = _load(task["descriptor"])
    except Exception as exc:  # noqa: BLE001 - any loading error fails this attempt
        return {"t": "failed", "id": task["id"], "attempt": task["attempt"], "reason": "error", "error": _error(exc), "runMs": (time.perf_counter() - started) * 1000}
    context = MiniBatchContext(task, task["descriptor"].get("partitionKeyValue"))
    try:
        returned = _module.run(data, context) if _run_arity == 2 else _module.run(data)
    except Exception as exc:  # noqa: BLE001 - the script's error fails this attempt
        error = _error(exc)
        vanished = _vanished_input_file(task["descriptor"])
        if vanished:
            error["message"] = "%s; run() failed with: %s" % (vanished, error["message"])
        return {"t": "failed", "id": task["id"], "attempt": task["attempt"], "reason": "error", "error": error, "runMs": (time.perf_counter() - started) * 1000}
    run_ms = (time.perf_counter() - started) * 1000
    rows = _rows(returned, _setup.get("appendRowHeader", False))
    if isinstance(rows, str):
        return {"t": "failed", "id": task["id"], "attempt": task["attempt"], "reason": "bad-return", "error": {"name": "TypeError", "message": rows}, "runMs": run_ms}
    try:
        lines = "\n".join(json.dumps(_clean(element), default=_json_default) for element in rows)
    except (TypeError, ValueError) as exc:
        return {"t": "failed", "id": task["id"], "attempt": task["attempt"], "reason": "bad-return", "error": {"name": "TypeError", "message": "run() returned an element that cannot be written as a row: %s" % exc}, "runMs": run_ms}
    result = {"t": "done", "id": task["id"], "attempt": task["attempt"], "returned": len(rows), "rows": lines, "runMs": run_ms}
    if unreadable:
        result["unreadable"] = unreadable
        result["problems"] = ["%d row(s) with the wrong number of fields were skipped by pandas" % unreadable]
    return result


def _initialise(setup):
    global _setup, _module, _run_arity
    _setup = setup
    level = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING}.get(setup.get("loggingLevel"), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        _module, _run_arity = _load_script(setup)
    except ContractError as exc:
        _send({"t": "init-failed", "error": _error(exc), "contract": True})
        return
    except Exception as exc:  # noqa: BLE001 - the module's own top-level code failed
        _send({"t": "init-failed", "error": _error(exc), "contract": True})
        return
    init = getattr(_module, "init", None)
    if callable(init):
        try:
            init()
        except Exception as exc:  # noqa: BLE001 - init() failing restarts the process
            _send({"t": "init-failed", "error": _error(exc), "contract": False})
            return
    _send({"t": "ready"})


def _shutdown():
    error = None
    shutdown = getattr(_module, "shutdown", None) if _module else None
    if callable(shutdown):
        try:
            shutdown()
        except Exception as exc:  # noqa: BLE001
            error = _error(exc)
    _send({"t": "shutdown-done", "error": error} if error else {"t": "shutdown-done"})


def main():
    # Its interpreter first: for a process started ahead, the controller's check of the
    # interpreter (version, the file it runs from), without starting it once more to ask.
    _send({"t": "about", "version": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable or ""})
    for line in _IN:
        if not line.strip():
            continue
        message = json.loads(line)
        kind = message["t"]
        if kind == "adopt":
            # Started before the job was read (a spare, as the Node workers'): the job's folder
            # and environment now. The controller adopts a spare only when no variable Python
            # reads at start-up (PYTHON*) changes.
            os.chdir(message["cwd"])
            os.environ.update(message["env"])
        elif kind == "init":
            _initialise(message["setup"])
        elif kind == "run":
            # Results are batched while more of this message's tasks remain, 2 ms at most since
            # the last write (as the Node worker does): one write for many quick mini-batches.
            tasks = message["tasks"]
            held = []
            last = time.perf_counter()
            for index, task in enumerate(tasks):
                try:
                    held.append(_run_task(task))
                except BaseException:
                    # sys.exit() in a script: what finished is reported before the process ends.
                    if held:
                        _send({"t": "results", "results": held})
                    raise
                if index == len(tasks) - 1 or time.perf_counter() - last > _MAX_HOLD_SECONDS:
                    _send({"t": "results", "results": held})
                    held = []
                    last = time.perf_counter()
        elif kind == "shutdown":
            _shutdown()
            return


if __name__ == "__main__":
    try:
        main()
    except BaseException as exc:  # noqa: BLE001 - report, then die
        if not isinstance(exc, (SystemExit, KeyboardInterrupt)):
            try:
                _send({"t": "fatal", "error": _error(exc)})
            except Exception:  # noqa: BLE001
                pass
        raise
