#!/usr/bin/env python3
"""Generate lab content: city website, office documents for the Samba share,
and the 'civil registry' file that gets stolen. Deterministic (seeded).
usage: gen_content.py site DIR | docs DIR [scale] | registry FILE [rows]"""
import io, os, random, sys, zipfile

R = random.Random(2024)
PRENOMS = "Marie Jean Pierre Sophie Camille Lucas Léa Hugo Chloé Louis Emma Nathan Manon Jules Inès Paul Julie Thomas".split()
NOMS = "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel Garcia David Bertrand Roux".split()
WORDS = ("conseil municipal délibération budget voirie école cantine subvention association marché public "
         "urbanisme permis construire état civil mariage naissance recensement élections travaux réseau "
         "assainissement déchets collecte bibliothèque sport culture personnel agent service mairie adjoint").split()

def lorem(n):
    return " ".join(R.choice(WORDS) for _ in range(n)).capitalize() + "."

def page(title, body):
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{title} - Mairie de Ville-Exemple</title>
<link rel="stylesheet" href="/css/style.css"></head><body><header><img src="/img/blason.png" alt="blason">
<h1>Mairie de Ville-Exemple</h1><nav><a href="/">Accueil</a> <a href="/demarches.html">Démarches</a>
<a href="/actualites.html">Actualités</a> <a href="/contact.html">Contact</a> <a href="/espace-agent/login.html">Espace agent</a></nav></header>
<main><h2>{title}</h2>{body}</main><footer>Mairie de Ville-Exemple - 1 place de la Mairie - 01 23 45 67 89</footer></body></html>
"""

def png(w, h):
    import struct, zlib
    chunk = lambda t, b: struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
    raw = b"".join(b"\0" + R.randbytes(w * 3) for _ in range(h))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

def site(d):
    os.makedirs(f"{d}/css", exist_ok=True); os.makedirs(f"{d}/img", exist_ok=True); os.makedirs(f"{d}/espace-agent", exist_ok=True)
    paras = lambda k: "".join(f"<p>{lorem(60)}</p>" for _ in range(k))
    w = lambda p, s: open(f"{d}/{p}", "w").write(s)
    w("index.html", page("Bienvenue", paras(6)))
    w("demarches.html", page("Démarches en ligne", "<ul>" + "".join(f"<li><a href='/demarches.html#{i}'>{lorem(5)}</a></li>" for i in range(20)) + "</ul>" + paras(4)))
    w("actualites.html", page("Actualités", paras(12)))
    w("contact.html", page("Contact", paras(2) + "<form method='post' action='/contact'><input name='email'><textarea name='msg'></textarea><button>Envoyer</button></form>"))
    w("espace-agent/login.html", page("Espace agent", "<form method='post' action='/espace-agent/login'><label>Identifiant <input name='user'></label>"
      "<label>Mot de passe <input type='password' name='password'></label><button>Connexion</button></form>"))
    w("espace-agent/accueil.html", page("Espace agent - accueil", paras(3)))
    w("css/style.css", "body{font-family:sans-serif;margin:0}header{background:#003189;color:#fff;padding:1em}" * 20)
    open(f"{d}/img/blason.png", "wb").write(png(100, 80))
    open(f"{d}/img/mairie.jpg", "wb").write(b"\xff\xd8\xff\xe0" + R.randbytes(90000))
    w("robots.txt", "User-agent: *\nDisallow: /espace-agent/\n")

def ooxml(kind, text):
    """A minimal but well-formed .docx/.xlsx (zip with OOXML parts)."""
    b = io.BytesIO(); z = zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED)
    main = "word/document.xml" if kind == "docx" else "xl/workbook.xml"
    ct = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml" if kind == "docx"
          else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
    z.writestr("[Content_Types].xml", f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
               f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/{main}" ContentType="{ct}"/></Types>')
    z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="{main}"/></Relationships>')
    if kind == "docx":
        body = "".join(f"<w:p><w:r><w:t>{t}</w:t></w:r></w:p>" for t in text)
        z.writestr(main, f'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>')
    else:
        rows = "".join(f'<row r="{i+1}"><c t="inlineStr"><is><t>{t}</t></is></c><c><v>{R.randint(100,99999)}</v></c></row>' for i, t in enumerate(text))
        z.writestr(main, '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="Feuil1" sheetId="1"/></sheets></workbook>')
        z.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>')
    z.writestr("docProps/thumbnail.jpeg", R.randbytes(len(text) * 40))  # embedded image: realistic size/entropy
    z.close(); return b.getvalue()

def pdf(text):
    content = "BT /F1 11 Tf 50 780 Td " + " ".join(f"({t[:90]}) Tj 0 -14 Td" for t in text) + " ET"
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            f"<< /Length {len(content)} >>\nstream\n{content}\nendstream", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"; offs = []
    for i, o in enumerate(objs):
        offs.append(len(out)); out += f"{i+1} 0 obj\n{o}\nendobj\n".encode("latin-1", "replace")
    # embedded scanned image (compressed stream: high entropy, like real scans)
    img = R.randbytes(len(text) * 120); offs.append(len(out))
    out += f"6 0 obj\n<< /Type /XObject /Subtype /Image /Width 800 /Height 600 /Filter /DCTDecode /Length {len(img)} >>\nstream\n".encode() + img + b"\nendstream\nendobj\n"
    x = len(out); out += f"xref\n0 {len(offs)+1}\n0000000000 65535 f \n".encode() + "".join(f"{o:010d} 00000 n \n" for o in offs).encode()
    out += f"trailer << /Size {len(offs)+1} /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n".encode()
    return out

def docs(d, scale=1.0):
    specs = [("Conseil municipal/Compte-rendu CM {m} 2024.docx", "docx", 6), ("Finances/Budget primitif 2024.xlsx", "xlsx", 1),
             ("Finances/Subventions associations {m}.xlsx", "xlsx", 3), ("RH/Planning agents {m}.xlsx", "xlsx", 3),
             ("RH/Note de service {m}.docx", "docx", 3), ("Urbanisme/Permis de construire PC-{n}.pdf", "pdf", 5),
             ("Marchés publics/CCTP voirie lot {n}.pdf", "pdf", 3), ("Etat civil/Registre naissances {m}.pdf", "pdf", 2),
             ("Courrier/Courrier {n}.txt", "txt", 4)]
    mois = "janvier février mars avril mai juin juillet septembre octobre novembre".split()
    total = 0
    for pat, kind, cnt in specs:
        for i in range(max(1, int(cnt * scale))):
            name = pat.format(m=mois[i % len(mois)], n=1000 + R.randint(0, 8999))
            p = os.path.join(d, name); os.makedirs(os.path.dirname(p), exist_ok=True)
            lines = [lorem(14) for _ in range(int(R.randint(60, 400) * scale) + 10)]
            data = ooxml(kind, lines) if kind in ("docx", "xlsx") else pdf(lines) if kind == "pdf" else ("\n".join(lines) + "\n").encode()
            open(p, "wb").write(data); total += len(data)
    print(f"docs: {total} bytes in {d}", file=sys.stderr)

def registry(path, rows=20000):
    with open(path, "w") as f:
        f.write("numero_acte;type;nom;prenoms;date;lieu;pere;mere;numero_secu\n")
        for i in range(rows):
            f.write(f"{2024000+i};{R.choice(['naissance','mariage','deces'])};{R.choice(NOMS).upper()};{R.choice(PRENOMS)} {R.choice(PRENOMS)};"
                    f"{R.randint(1930,2024)}-{R.randint(1,12):02d}-{R.randint(1,28):02d};Ville-Exemple;{R.choice(PRENOMS)} {R.choice(NOMS)};"
                    f"{R.choice(PRENOMS)} {R.choice(NOMS)};{R.randint(1,2)}{R.randint(10**12,10**13-1)}\n")

if __name__ == "__main__":
    what, target = sys.argv[1], sys.argv[2]
    if what == "site": site(target)
    elif what == "docs": docs(target, float(sys.argv[3]) if len(sys.argv) > 3 else 1.0)
    elif what == "registry": registry(target, int(sys.argv[3]) if len(sys.argv) > 3 else 20000)
