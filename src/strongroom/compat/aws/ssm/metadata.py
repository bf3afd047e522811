"""Parameter Store's labels (each names one version, at most ten on a version) and tags."""

from __future__ import annotations

from collections.abc import Mapping

from strongroom.auth import Identity
from strongroom.compat.aws.labels import labels_on, relabelled, unlabelled
from strongroom.compat.aws.resource_metadata import ResourceMetadata
from strongroom.compat.aws.ssm.core import SsmCore
from strongroom.compat.aws.ssm.errors import SsmError
from strongroom.compat.aws.ssm.models import (
    LABEL,
    MAX_LABELS,
    reserved_label,
)
from strongroom.compat.aws.tags import MAX_TAGS, retagged

__all__ = ["ParameterMetadata"]


class ParameterMetadata(SsmCore):
    def label(
        self,
        identity: Identity,
        region: str,
        name: str,
        version: int | None,
        labels: list[str],
    ) -> tuple[int, list[str]]:
        """Put ``labels`` on ``version`` (the newest when None), moving any that another version
        had; (the version, the labels refused as invalid)."""
        _, path = self.check_name(name)
        grant = self._require(identity, region, "LabelParameterVersion", path)
        versions = {r.version for r in self._rows.versions(grant)}
        if not versions:
            raise SsmError("ParameterNotFound", "")
        chosen = max(versions) if version is None else version
        if chosen not in versions:
            raise SsmError(
                "ParameterVersionNotFound",
                f"Systems Manager could not find version {chosen} of {name}. Verify the version "
                "and try again.",
            )
        invalid = [label for label in labels if not LABEL.fullmatch(label) or reserved_label(label)]

        def too_many(moved: Mapping[str, int]) -> SsmError | None:
            if len(labels_on(moved, chosen)) <= MAX_LABELS:
                return None
            return SsmError(
                "ParameterVersionLabelLimitExceeded",
                f"A parameter version can have maximum {MAX_LABELS} labels.Move one or more "
                "labels to another version and try again.",
            )

        def put_on(current: ResourceMetadata) -> ResourceMetadata:
            valid = [label for label in labels if label not in invalid]
            return current.with_labels(relabelled(current.labels, valid, chosen, too_many=too_many))

        self._change_metadata(region, path, put_on)
        return chosen, invalid

    def unlabel(
        self, identity: Identity, region: str, name: str, version: int, labels: list[str]
    ) -> tuple[list[str], list[str]]:
        """(the labels removed from ``version``, those it did not have)."""
        _, path = self.check_name(name)
        grant = self._require(identity, region, "UnlabelParameterVersion", path)
        versions = {r.version for r in self._rows.versions(grant)}
        if not versions:
            raise SsmError("ParameterNotFound", "")
        if version not in versions:
            raise SsmError(
                "ParameterVersionNotFound",
                f"Systems Manager could not find version {version} of {name}. Verify the version "
                "and try again.",
            )
        removed: list[str] = []

        def take_off(current: ResourceMetadata) -> ResourceMetadata:
            kept, removed[:] = unlabelled(current.labels, labels, version)
            return current.with_labels(kept)

        self._change_metadata(region, path, take_off)
        return removed, [label for label in labels if label not in removed]

    # -- tags
    def tags(self, identity: Identity, region: str, name: str) -> Mapping[str, str]:
        _, path = self.check_name(name)
        grant = self._require(identity, region, "ListTagsForResource", path)
        if not self._exists(grant):
            raise SsmError("InvalidResourceId", "")
        return dict(self._metadata_of(region, path).tags)

    def set_tags(
        self,
        identity: Identity,
        region: str,
        name: str,
        add: Mapping[str, str],
        remove: list[str],
    ) -> None:
        _, path = self.check_name(name)
        grant = self._require(
            identity, region, "AddTagsToResource" if add else "RemoveTagsFromResource", path
        )
        if not self._exists(grant):
            raise SsmError("InvalidResourceId", "")

        def retag(current: ResourceMetadata) -> ResourceMetadata:
            return current.with_tags(retagged(current.tags, add, remove, _too_many))

        self._change_metadata(region, path, retag)


def _too_many() -> SsmError:
    return SsmError("TooManyTagsError", f"A parameter has at most {MAX_TAGS} tags.")
