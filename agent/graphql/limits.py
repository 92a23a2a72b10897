"""What one GraphQL operation may ask for: depth, aliases, tokens and cost.

Cost counts every field once, and what is asked inside a list as many times as the
list is expected to hold (LIST_SIZE): ``lists { items { title } }`` costs far more
than ``lists { name }``. An operation over the budget is refused before it runs."""

from __future__ import annotations

from collections.abc import Callable

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
    get_nullable_type,
)
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

MAX_DEPTH = 4  # the schema's deepest honest query (lists { items { title } }) is 2
MAX_ALIASES = 15
MAX_TOKENS = 2000
MAX_COST = 5000
LIST_SIZE = 20


def limits() -> list[Callable[[], SchemaExtension]]:
    """Factories: each operation gets its own checkers."""
    return [
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules([CostLimit]),
    ]


class CostLimit(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
        schema = self.context.schema
        root = schema.get_root_type(node.operation)
        if root is None:
            return
        fragments = {
            d.name.value: d
            for d in self.context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        cost = _cost(node.selection_set, root, fragments, self.context.schema, frozenset())
        if cost > MAX_COST:
            self.report_error(
                GraphQLError(
                    f"this query would cost {cost}, over the limit of {MAX_COST}: ask for "
                    "fewer fields inside lists, or split it",
                    node,
                )
            )


def _cost(
    selections: SelectionSetNode | None,
    parent: GraphQLNamedType,
    fragments: dict[str, FragmentDefinitionNode],
    schema: object,
    seen: frozenset[str],
) -> int:
    if selections is None:
        return 0
    total = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(selection, parent, fragments, schema, seen)
        elif isinstance(selection, InlineFragmentNode):
            on = parent
            if selection.type_condition is not None:
                on = schema.get_type(selection.type_condition.name.value) or parent  # type: ignore[attr-defined]
            total += _cost(selection.selection_set, on, fragments, schema, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:  # cycles are refused elsewhere
                on = schema.get_type(fragment.type_condition.name.value) or parent  # type: ignore[attr-defined]
                total += _cost(fragment.selection_set, on, fragments, schema, seen | {name})
    return total


def _field_cost(
    node: FieldNode,
    parent: GraphQLNamedType,
    fragments: dict[str, FragmentDefinitionNode],
    schema: object,
    seen: frozenset[str],
) -> int:
    definition = getattr(parent, "fields", {}).get(node.name.value)
    if definition is None:  # __typename, introspection, or unknown (reported elsewhere)
        return 0
    inner = _cost(node.selection_set, get_named_type(definition.type), fragments, schema, seen)
    many = isinstance(get_nullable_type(definition.type), GraphQLList)
    return 1 + inner * (LIST_SIZE if many else 1)
