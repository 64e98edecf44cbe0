"""What every credential source of one resolution shares: files, settings, clock, region, prompts, caches.

:mod:`.chain` builds one :class:`Context` per :func:`~.chain.resolve_provider`
call and hands it to the sources (:mod:`.assume_role`, :mod:`.web_identity`,
:mod:`.sso`, :mod:`.process`). Two of its members are the chain's own
functions, set by the chain, so that a source can resolve another profile
(``source_profile``) or a named source (``credential_source``) without
importing the chain back: ``profile_chain(name)`` runs the profile providers
(web identity, SSO, credentials file, process, config file) for a profile,
and ``named_source(name)`` the environment, container or IMDS provider.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from .base import Clock, CredentialProvider, CredentialsError

if TYPE_CHECKING:
    from .cache import Cache
    from .config import Settings
    from .profiles import SharedFiles
    from .sts import StsClient

__all__ = ["DEFAULT_CACHE_DIR", "Context", "MfaPrompt"]

#: The AWS CLI's credential cache folder (``awscli.customizations.assumerole.CACHE_DIR``).
DEFAULT_CACHE_DIR = os.path.join("~", ".aws", "cli", "cache")
MfaPrompt = Callable[[str], str]


def _unset(name: str) -> CredentialProvider | None:
    raise CredentialsError(f"internal: no provider for {name}")


class Context:
    """The inputs of one resolution, and lazily made helpers (the STS client, the credential cache)."""

    def __init__(
        self,
        *,
        environ: Mapping[str, str],
        files: SharedFiles,
        settings: Settings,
        clock: Clock,
        region: str | None,
        mfa_prompt: MfaPrompt | None,
        cache_dir: str | None,
        process_timeout: float,
    ) -> None:
        self.environ = environ
        self.files = files
        self.settings = settings
        self.clock = clock
        self.region = region
        self.mfa_prompt = mfa_prompt
        self.cache_dir = cache_dir
        self.process_timeout = process_timeout
        self.profile_chain: Callable[[str], CredentialProvider | None] = _unset
        self.named_source: Callable[[str], CredentialProvider | None] = _unset
        self._sts: StsClient | None = None
        self._cache: Cache | None = None
        self._memory: Cache | None = None

    def sts(self) -> StsClient:
        if self._sts is None:
            from .sts import StsClient

            self._sts = StsClient(self.settings, self.region, clock=self.clock)
        return self._sts

    def cache(self, shared: bool = True) -> Cache:
        """The AWS CLI's JSON file cache (``cache_dir``), or one in memory when ``cache_dir`` is None.

        ``shared=False`` is always the memory one: the AWS CLI gives its file
        cache to the providers of the active profile only, so web identity
        and SSO credentials that only source a role stay in memory there.
        """
        from .cache import JsonFileCache, MemoryCache

        if self._memory is None:
            self._memory = MemoryCache()
        if not shared or self.cache_dir is None:
            return self._memory
        if self._cache is None:
            self._cache = JsonFileCache(os.path.expanduser(self.cache_dir))
        return self._cache
