// Validate one file's C2PA manifest store with @trustnxt/c2pa-ts, an implementation independent of the SDK.
// Prints one JSON object: {"format", "valid", "errors": [codes], "codes": [all codes], "created", "gathered"}.
import * as fs from 'node:fs/promises';
import { BMFF, JPEG, MP3, PNG } from '@trustnxt/c2pa-ts/asset';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import { ManifestStore, ValidationResult } from '@trustnxt/c2pa-ts/manifest';

const buf = new Uint8Array(await fs.readFile(process.argv[2]));
const kinds = { JPEG, PNG, BMFF, MP3 };
// The library reads BMFF only under HEIF brands; the box walk and the bmffHash are the same for MP4 and QuickTime.
if (buf.length >= 12 && String.fromCharCode(...buf.subarray(4, 8)) === 'ftyp') {
    BMFF.canReadBrands.add(String.fromCharCode(...buf.subarray(8, 12)));
}
const format = Object.keys(kinds).find((name) => kinds[name].canRead(buf));
const out = { format: format ?? null, valid: false, errors: [], codes: [], created: [], gathered: [] };
if (format) {
    let result;
    try {
        const asset = new kinds[format](buf);
        const jumbf = asset.getManifestJUMBF();
        if (!jumbf) throw new Error('no manifest store found');
        const store = ManifestStore.read(SuperBox.fromBuffer(jumbf));
        const claim = store.getActiveManifest()?.claim;
        const labels = (refs) => (refs ?? []).map((ref) => String(ref.uri ?? ref.url ?? '').split('/').pop());
        out.created = labels(claim?.createdAssertions ?? claim?.assertions);
        out.gathered = labels(claim?.gatheredAssertions);
        result = await store.validate(asset);
    } catch (e) {
        result = ValidationResult.fromError(e);
        out.exception = String(e?.message ?? e);
    }
    out.valid = result.isValid;
    out.codes = result.statusEntries.map((s) => s.code);
    out.errors = result.statusEntries.filter((s) => !s.success).map((s) => s.code);
}
console.log(JSON.stringify(out));
