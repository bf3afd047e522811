"""Parameter Store's operations as routes of the AWS surface: ``/AmazonSSM.<Operation>``."""

from __future__ import annotations

from collections.abc import Callable

from strongroom.compat.aws.ssm.responses import (
    add_tags,
    delete_parameter,
    delete_parameters,
    describe_parameters,
    get_parameter,
    get_parameter_history,
    get_parameters,
    get_parameters_by_path,
    label_parameter_version,
    list_tags,
    put_parameter,
    remove_tags,
    unlabel_parameter_version,
)
from strongroom.server.routes import Answer, Call, Route

__all__ = ["SSM_ROUTES"]


_OPERATIONS: dict[str, Callable[[Call], Answer]] = {
    "PutParameter": put_parameter,
    "GetParameter": get_parameter,
    "GetParameters": get_parameters,
    "GetParametersByPath": get_parameters_by_path,
    "DeleteParameter": delete_parameter,
    "DeleteParameters": delete_parameters,
    "DescribeParameters": describe_parameters,
    "GetParameterHistory": get_parameter_history,
    "AddTagsToResource": add_tags,
    "RemoveTagsFromResource": remove_tags,
    "ListTagsForResource": list_tags,
    "LabelParameterVersion": label_parameter_version,
    "UnlabelParameterVersion": unlabel_parameter_version,
}


SSM_ROUTES = tuple(
    Route("POST", f"/AmazonSSM.{name}", handler, f"ssm{name}", f"Parameter Store {name}")
    for name, handler in _OPERATIONS.items()
)
