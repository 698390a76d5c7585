"""Manage the keys that sign the portable credentials: generate, rotate, list.

Private keys live only in configuration (CERTIFICATE_SIGNING_KEYS or the file CERTIFICATE_SIGNING_KEY_FILE);
public halves are recorded in the database, so the JWKS keeps every key that ever signed.

  generate [--algorithm RS256|EdDSA|all] [--output PATH]   new keys: to PATH (mode 0600) or printed as PEM
  rotate   [--algorithm ...]                               new keys replace the current ones; the old public
                                                           keys stay published (marked retired)
  list                                                     kid, algorithm and state of every known key
"""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from courses.certificates import keys
from courses.certificates.models import SigningKey


class Command(BaseCommand):
    help = "Generate, rotate or list the keys that sign certificate credentials (VC-JWT)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        generate = sub.add_parser("generate", help="Generate new signing keys.")
        generate.add_argument("--algorithm", choices=[*keys.ALGORITHMS, "all"], default="all")
        generate.add_argument("--output", help="Write the private keys to this file (refuses to overwrite).")
        rotate = sub.add_parser("rotate", help="Replace the current keys; the old public keys stay published.")
        rotate.add_argument("--algorithm", choices=[*keys.ALGORITHMS, "all"], default="all")
        sub.add_parser("list", help="List the published and configured keys.")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    @staticmethod
    def _new_keys(algorithm: str) -> list[keys.LoadedKey]:
        algorithms = keys.ALGORITHMS if algorithm == "all" else (algorithm,)
        return [keys.load_key(keys.generate_private_key(alg)) for alg in algorithms]

    def _publish(self, new: list[keys.LoadedKey]) -> None:
        for key in new:
            keys.key_publish(key)
            self.stderr.write(f"Published {key.algorithm} key {key.kid}")

    def do_generate(self, *, algorithm, output=None, **_):
        new = self._new_keys(algorithm)
        if output:
            path = Path(output)
            if path.exists():
                raise CommandError(f"{path} exists; use `certificate_keys rotate` to replace keys.")
            keys.write_key_file(path, new)
            self.stderr.write(f"Wrote {len(new)} private key(s) to {path} (mode 0600). "
                              f"Set CERTIFICATE_SIGNING_KEY_FILE={path.resolve()}")
        else:
            self.stdout.write("".join(key.private_pem() for key in new), ending="")
            self.stderr.write("Put the PEM above into CERTIFICATE_SIGNING_KEYS (never commit it).")
        self._publish(new)

    def do_rotate(self, *, algorithm, **_):
        try:
            current = keys.configured_keys()
        except keys.SigningKeyError:
            current = []
        new = self._new_keys(algorithm)
        replaced = {key.algorithm for key in new}
        kept = [key for key in current if key.algorithm not in replaced]
        retired = [key for key in current if key.algorithm in replaced]
        for key in retired:  # the old public keys stay in the JWKS
            row = keys.key_publish(key)
            row.retired_at = row.retired_at or timezone.now()
            row.save(update_fields=["retired_at"])
            self.stderr.write(f"Retired {key.algorithm} key {key.kid} (its public key stays published)")
        self._publish(new)
        path = keys.key_file_path()
        if path is not None:
            keys.write_key_file(path, new + kept)
            self.stderr.write(f"Wrote the new private key(s) to {path}; restart the server processes.")
        else:
            self.stdout.write("".join(key.private_pem() for key in new + kept), ending="")
            self.stderr.write("Replace CERTIFICATE_SIGNING_KEYS with the PEM above and restart the server processes.")

    def do_list(self, **_):
        try:
            configured = {key.kid: key for key in keys.configured_keys()}
            source = keys.key_source()
        except keys.SigningKeyError as exc:
            configured, source = {}, f"none ({exc})"
        self.stdout.write(f"Private keys from: {source}")
        signing = {keys.signing_key(alg).kid for alg in keys.ALGORITHMS if any(k.algorithm == alg for k in configured.values())}
        rows = {row.kid: row for row in SigningKey.objects.all()}
        for kid in list(configured) + [kid for kid in rows if kid not in configured]:
            algorithm = configured[kid].algorithm if kid in configured else rows[kid].algorithm
            if kid in signing:
                state = "signing"
            elif kid in configured:
                state = "configured"
            elif rows[kid].retired_at:
                state = f"retired {rows[kid].retired_at:%Y-%m-%d}"
            else:
                state = "published"
            self.stdout.write(f"{kid}  {algorithm:6}  {state}")
