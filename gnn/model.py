"""Heterogeneous GraphSAGE encoder and a link decoder over embeddings and pair features.

Encoder (per node type ``t``, per relation ``r = (s, ., t)``, layer ``l``):

.. math::
    h_v^{(0)} = \\mathrm{ReLU}(W_t x_v), \\qquad
    h_v^{(l+1)} = \\mathrm{ReLU}\\Big(\\sum_{r} W^{(l)}_{r,1} h_v^{(l)}
        + W^{(l)}_{r,2} \\operatorname{mean}_{u \\in N_r(v)} h_u^{(l)}\\Big)

(``HeteroConv`` over one ``SAGEConv`` per relation, summed), followed by a residual connection
and layer normalisation. Decoder:

.. math::
    \\mathrm{logit}(u, e) = \\mathrm{MLP}([h_u, h_e, h_u \\odot h_e, z(f_{ue})])

where ``f_ue`` are the pair features of ``gnn.features`` and ``z`` their standardisation with
statistics saved in the model folder. Shapes: ``x_dict[t]`` is ``[N_t, F_t]``; embeddings are
``[N_t, hidden]``; ``decode`` takes index vectors of length ``P`` and ``[P, N_FEATURES]`` pair
features and returns ``[P]`` logits.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import HeteroConv, SAGEConv
from torch_geometric.typing import EdgeType, NodeType


class HeteroSAGEEncoder(nn.Module):
    """Two (by default) layers of heterogeneous GraphSAGE over every relation type."""

    def __init__(
        self,
        node_dims: dict[NodeType, int],
        edge_types: list[EdgeType],
        hidden: int = 64,
        layers: int = 2,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.hidden = hidden
        self.dropout = dropout
        self.input = nn.ModuleDict({t: nn.Linear(d, hidden) for t, d in node_dims.items()})
        self.convs = nn.ModuleList(
            HeteroConv({et: SAGEConv(hidden, hidden) for et in edge_types}, aggr="sum")
            for _ in range(layers)
        )
        self.norms = nn.ModuleList(
            nn.ModuleDict({t: nn.LayerNorm(hidden) for t in node_dims}) for _ in range(layers)
        )

    def reset_parameters(self) -> None:
        for lin in self.input.values():
            lin.reset_parameters()
        for conv in self.convs:
            conv.reset_parameters()
        for norms in self.norms:
            for norm in norms.values():
                norm.reset_parameters()

    def forward(
        self, x_dict: dict[NodeType, Tensor], edge_index_dict: dict[EdgeType, Tensor]
    ) -> dict[NodeType, Tensor]:
        h = {t: torch.relu(self.input[t](x)) for t, x in x_dict.items()}
        for conv, norms in zip(self.convs, self.norms, strict=True):
            out = conv(h, edge_index_dict)
            h = {
                t: norms[t](
                    h[t]
                    + nn.functional.dropout(
                        torch.relu(out[t]), p=self.dropout, training=self.training
                    )
                )
                if t in out
                else h[t]
                for t in h
            }
        return h

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(hidden={self.hidden}, layers={len(self.convs)})"


class LinkDecoder(nn.Module):
    """MLP over ``[h_u, h_e, h_u * h_e, pair features]`` giving one logit per pair.

    With ``interaction_only`` the MLP sees ``[h_u * h_e, pair features]``: the event's own
    embedding then cannot carry an event-level bias, which on a temporal split memorises how
    popular the training window's events became instead of why (see ``gnn.train``).
    """

    def __init__(
        self, hidden: int, n_pair_features: int, width: int = 128, interaction_only: bool = False
    ) -> None:
        super().__init__()
        self.interaction_only = interaction_only
        n_embedding_inputs = 1 if interaction_only else 3
        self.mlp = nn.Sequential(
            nn.Linear(n_embedding_inputs * hidden + n_pair_features, width),
            nn.ReLU(),
            nn.Linear(width, width // 2),
            nn.ReLU(),
            nn.Linear(width // 2, 1),
        )
        # A direct linear path from the pair features keeps what they already know easy to use.
        self.linear = nn.Linear(n_pair_features, 1)

    def forward(self, h_user: Tensor, h_event: Tensor, pair: Tensor) -> Tensor:
        if self.interaction_only:
            z = torch.cat([h_user * h_event, pair], dim=-1)
        else:
            z = torch.cat([h_user, h_event, h_user * h_event, pair], dim=-1)
        return (self.mlp(z) + self.linear(pair)).squeeze(-1)


class EventRecommender(nn.Module):
    """Encoder + decoder; ``pair_mean``/``pair_std`` standardise the pair features."""

    def __init__(
        self,
        node_dims: dict[NodeType, int],
        edge_types: list[EdgeType],
        n_pair_features: int,
        hidden: int = 64,
        layers: int = 2,
        dropout: float = 0.1,
        interaction_only: bool = False,
    ) -> None:
        super().__init__()
        self.encoder = HeteroSAGEEncoder(node_dims, edge_types, hidden, layers, dropout)
        self.decoder = LinkDecoder(hidden, n_pair_features, interaction_only=interaction_only)
        self.register_buffer("pair_mean", torch.zeros(n_pair_features))
        self.register_buffer("pair_std", torch.ones(n_pair_features))

    def embed(
        self, x_dict: dict[NodeType, Tensor], edge_index_dict: dict[EdgeType, Tensor]
    ) -> dict[NodeType, Tensor]:
        return self.encoder(x_dict, edge_index_dict)

    def decode(
        self, emb: dict[NodeType, Tensor], users: Tensor, events: Tensor, pair: Tensor
    ) -> Tensor:
        z = (pair - self.pair_mean) / self.pair_std
        return self.decoder(emb["user"][users], emb["event"][events], z)
