"""How far an ``eat-sim calibrate`` fit got, so that a stop is reported in one true line.

A stop (Ctrl-C, SIGTERM) leaves the study's finished trials in place and the report whole or
not at all (docs/calibration.md); :class:`FitProgress` says which, and :func:`what_was_written`
what a write cut short left behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from model.cli import existing_ancestor
from model.numbers import count_of


@dataclass
class FitProgress:
    """How far a fit got, so that a stop (Ctrl-C, SIGTERM) is reported in one true line.

    Attributes:
        out: the report folder (the study is ``study.db`` in it).
        study_before: the study file's identity (device, inode, size, modification time)
            before the command, or None if there was none.
        force: whether ``--force`` discards an earlier study.
        created_from: the nearest folder at or above ``out`` that existed before the command.
        phase: ``"trials"``, ``"check"`` (checking on fresh seeds and building the report),
            ``"write"``, ``"done"`` (everything written; printing) or ``"apply"``.
        finished: complete trials in the study, once it is open.
        written: the report folder and the calibrated file's pair, as each is in place.
        target: where the calibrated file goes besides the report, if anywhere.
        scenario_file: the scenario file ``--apply`` writes, once it is being written.
        applied: whether the scenario file was written.
    """

    out: Path
    study_before: tuple[int, ...] | None
    force: bool
    created_from: Path
    phase: str = "trials"
    finished: int = 0
    written: list[Path] = field(default_factory=list)
    target: Path | None = None
    scenario_file: Path | None = None
    applied: bool = False

    @classmethod
    def before(cls, out: Path, force: bool) -> FitProgress:
        """The progress of a fit about to start in ``out``."""
        from model.calibration import STUDY_FILE

        return cls(out=out, study_before=_identity(out / STUDY_FILE), force=force,
                   created_from=existing_ancestor(out))

    @property
    def study(self) -> Path:
        """The study file."""
        from model.calibration import STUDY_FILE

        return self.out / STUDY_FILE

    def stopped(self) -> str:
        """The line a stop prints now (after removing a study this fit began and left empty)."""
        if self.phase in ("trials", "check"):
            return self._report_not_written()
        if self.phase == "write":  # cut short inside the write: whole files or none
            return (f"interrupted: {what_was_written(self.written, self.out, self.target)}; "
                    f"the finished trials are kept in {self.study}")
        text = f"interrupted after the report was written in {self.out}"
        if self.target is not None:
            text += f", and {self.target} with accepted.parquet beside it"
        if self.phase == "apply":
            text += (f"; the calibrated parameters were written into {self.scenario_file}"
                     if self.applied else f"; {self.scenario_file} is as it was (not applied)")
        return text

    def _report_not_written(self) -> str:
        if self.finished:
            then = ("continue" if self.phase == "trials" else
                    "check the fit and write the report (no trial runs again)")
            return (f"interrupted{' while checking the fit' if self.phase == 'check' else ''}: "
                    f"the report was not written; {count_of(self.finished, 'finished trial')} "
                    f"{'is' if self.finished == 1 else 'are'} kept in {self.study}; run the same "
                    f"command to {then}")
        if self.study_before is None:
            self._forget_empty_study()
        elif self.force and _identity(self.study) != self.study_before:
            return (f"interrupted before any trial finished: the report was not written, and "
                    f"--force discarded the earlier study in {self.study}")
        if not self.study.exists():
            return "interrupted: nothing was written"
        return (f"interrupted before any trial finished: the report was not written; the "
                f"study in {self.study} has no finished trial; run the same command to "
                f"continue")

    def _forget_empty_study(self) -> None:
        """Remove the study file (and folders) this fit created before any trial finished."""
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.study}{suffix}").unlink(missing_ok=True)
        folder = self.out
        while folder != self.created_from and folder != folder.parent:
            try:
                folder.rmdir()  # only if empty: never anything the user put there
            except OSError:
                break
            folder = folder.parent


def _identity(path: Path) -> tuple[int, ...] | None:
    """A file's device, inode, size and modification time, or None if it does not exist."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def what_was_written(written: list[Path], out: Path, target: Path | None) -> str:
    """What a write cut short left, in words: the report whole or not at all, and the file."""
    if not written:
        return (f"the report was not written ({out} holds the study and any earlier report, "
                f"unchanged); run the same command to write it")
    text = f"the report was written in {out}"
    if target is not None:
        text += (f", and {target} with accepted.parquet beside it" if len(written) > 1 else
                 f", but {target} was not (it is as it was)")
    return text


__all__ = ["FitProgress", "what_was_written"]
