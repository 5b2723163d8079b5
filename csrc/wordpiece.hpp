// @brief BERT's tokenizer (BertNormalizer, BertPreTokenizer, WordPiece, [CLS] ... [SEP]) on ASCII texts.
//
// The token ids Hugging Face `tokenizers` gives a text of printable ASCII (with tabs and line breaks) under a
// BERT tokenizer.json: clean_text drops the control characters and turns \t \n \r into spaces, lowercase
// (when set) lowers A-Z (accents and Chinese characters do not occur in ASCII), the pre-tokenizer splits on
// spaces and cuts every ASCII punctuation character out as a word of its own, and WordPiece matches each word
// greedily, longest piece first, continuing pieces looked up with their prefix ("##"); a word with a part
// that matches nothing, or of more than max_word_chars characters, is the unknown token. Truncation keeps the
// first max_length - 2 tokens, then [CLS] and [SEP] are added. A text that holds an added token's text (such
// as "[CLS]", which `tokenizers` matches before the rest), in any case, before or after normalisation, is not
// encoded here: encode() returns false and the caller asks `tokenizers`. Texts are independent: one per work
// item (OpenMP). Every buffer is sized before the parallel region (max_ids bounds a text's ids), so nothing
// allocates inside it: an allocation failing there would abort the process.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#ifdef EXPOSURE_OPENMP
#include <omp.h>
#endif

namespace exposure {

/// @brief An open-addressing table from byte strings to token ids, looked up without allocating.
class VocabTable {
public:
    void insert(const std::string& key, std::int32_t id) {
        if (key.empty()) return;
        if (2 * (ids_.size() + 1) > slots_.size()) grow();
        place(static_cast<std::int32_t>(ids_.size()), key.data(), key.size());
        offsets_.push_back(arena_.size());
        arena_.append(key);
        lengths_.push_back(key.size());
        ids_.push_back(id);
        if (key.size() > longest_) longest_ = key.size();
    }

    /// The id of bytes [p, p + n), or -1.
    std::int32_t find(const char* p, std::size_t n) const {
        if (slots_.empty()) return -1;
        for (std::size_t i = hash(p, n) & mask_;; i = (i + 1) & mask_) {
            const std::int32_t e = slots_[i];
            if (e < 0) return -1;
            if (lengths_[e] == n && std::memcmp(arena_.data() + offsets_[e], p, n) == 0) return ids_[e];
        }
    }

    std::size_t longest() const { return longest_; }

private:
    static std::size_t hash(const char* p, std::size_t n) {  // FNV-1a
        std::uint64_t h = 1469598103934665603ull;
        for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 1099511628211ull;
        return static_cast<std::size_t>(h ^ (h >> 29));
    }

    void place(std::int32_t e, const char* p, std::size_t n) {
        std::size_t i = hash(p, n) & mask_;
        while (slots_[i] >= 0) {
            const std::int32_t o = slots_[i];
            if (lengths_[o] == n && std::memcmp(arena_.data() + offsets_[o], p, n) == 0) {  // a repeat: first id wins
                return;
            }
            i = (i + 1) & mask_;
        }
        slots_[i] = e;
    }

    void grow() {
        const std::size_t size = slots_.empty() ? 1024 : 2 * slots_.size();
        slots_.assign(size, -1);
        mask_ = size - 1;
        for (std::size_t e = 0; e < ids_.size(); ++e)
            place(static_cast<std::int32_t>(e), arena_.data() + offsets_[e], lengths_[e]);
    }

    std::string arena_;
    std::vector<std::size_t> offsets_, lengths_;
    std::vector<std::int32_t> ids_;
    std::vector<std::int32_t> slots_;
    std::size_t mask_ = 0, longest_ = 0;
};

struct WordPieceSpec {
    std::int32_t unk, cls, sep;
    bool lowercase;
    std::size_t max_word_chars;
};

class WordPiece {
public:
    /// tokens[i] has id ids[i]; prefix marks continuing pieces; added: the added tokens' texts (ASCII ones).
    WordPiece(const std::vector<std::string>& tokens, const std::vector<std::int32_t>& ids, const std::string& prefix,
              WordPieceSpec spec, const std::vector<std::string>& added)
        : spec_(spec) {
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            words_.insert(tokens[i], ids[i]);
            if (!prefix.empty() && tokens[i].size() > prefix.size() && tokens[i].compare(0, prefix.size(), prefix) == 0)
                pieces_.insert(tokens[i].substr(prefix.size()), ids[i]);
        }
        for (const std::string& a : added) {
            std::string lower;
            for (char c : a) lower.push_back(lower_ascii(c));
            if (lower.empty()) continue;
            added_.push_back(lower);
            starts_added_[static_cast<unsigned char>(lower[0])] = true;
        }
    }

    /// The most ids encode() holds in out at any time for a text of n bytes: [CLS], a token per byte at most
    /// (every piece covers a byte or more, an unknown word is one token), [SEP]; under truncation at most the
    /// max_length - 1 tokens kept, plus one word's pieces (max_word_chars at most, else one unknown token).
    std::size_t max_ids(std::size_t n, std::size_t max_length) const {
        const std::size_t whole = n + 2;
        if (max_length == 0) return whole;
        const std::size_t cut = max_length + (spec_.max_word_chars > 1 ? spec_.max_word_chars : 1);
        return cut < whole ? cut : whole;
    }

    /// The ids of one ASCII text into out (cleared first); truncated: more than max_length - 2 tokens
    /// (max_length 0: no truncation). False, with out empty: a text holding an added token, left to the caller.
    /// Allocates nothing when out holds max_ids(n, max_length) and norm n bytes of capacity.
    bool encode(const char* text, std::size_t n, std::size_t max_length, std::vector<std::int32_t>& out,
                bool& truncated, std::string& norm) const {
        out.clear();
        truncated = false;
        norm.clear();
        for (std::size_t i = 0; i < n; ++i) {  // BertNormalizer on ASCII
            const char c = text[i];
            if (c == '\t' || c == '\n' || c == '\r') {
                norm.push_back(' ');
            } else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
                norm.push_back(spec_.lowercase ? lower_ascii(c) : c);
            }
        }
        if (holds_added(text, n) || holds_added(norm.data(), norm.size())) return false;
        const std::size_t keep = max_length ? max_length - 2 : static_cast<std::size_t>(-1);
        out.push_back(spec_.cls);
        const char* s = norm.data();
        const std::size_t len = norm.size();
        std::size_t i = 0;
        while (i < len) {
            if (s[i] == ' ') {
                ++i;
                continue;
            }
            std::size_t end = i + 1;
            if (!is_punct(s[i]))
                while (end < len && s[end] != ' ' && !is_punct(s[end])) ++end;
            if (!word(s + i, end - i, out, keep)) {
                truncated = true;
                break;
            }
            i = end;
        }
        out.push_back(spec_.sep);
        return true;
    }

private:
    static char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

    static bool is_punct(char c) {  // Rust's char::is_ascii_punctuation
        return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
    }

    /// Whether the text, lowered, holds an added token's text, lowered: `tokenizers` matches some before
    /// normalisation and some after, so encode() asks this of the text and of its normalised form.
    bool holds_added(const char* text, std::size_t n) const {
        for (std::size_t i = 0; i < n; ++i) {
            if (!starts_added_[static_cast<unsigned char>(lower_ascii(text[i]))]) continue;
            for (const std::string& a : added_) {
                std::size_t j = 0;
                while (j < a.size() && i + j < n && lower_ascii(text[i + j]) == a[j]) ++j;
                if (j == a.size()) return true;
            }
        }
        return false;
    }

    /// Appends the pieces of one word, then cuts out to [CLS] and keep tokens; false when it had to cut, that
    /// is, the text is truncated.
    bool word(const char* w, std::size_t n, std::vector<std::int32_t>& out, std::size_t keep) const {
        const std::size_t mark = out.size();
        if (n > spec_.max_word_chars) {
            out.push_back(spec_.unk);
        } else {
            for (std::size_t start = 0; start < n;) {
                const VocabTable& table = start == 0 ? words_ : pieces_;
                std::size_t end = n - start > table.longest() ? start + table.longest() : n;
                std::int32_t id = -1;
                for (; end > start; --end)
                    if ((id = table.find(w + start, end - start)) >= 0) break;
                if (id < 0) {  // no piece matches here: the whole word is unknown
                    out.resize(mark);
                    out.push_back(spec_.unk);
                    break;
                }
                out.push_back(id);
                start = end;
            }
        }
        if (out.size() - 1 > keep) {
            out.resize(keep + 1);
            return false;
        }
        return true;
    }

    WordPieceSpec spec_;
    VocabTable words_, pieces_;
    std::vector<std::string> added_;
    std::array<bool, 256> starts_added_{};  // the first characters of added_
};

/// encode() of each of n texts (texts[i], lengths[i] bytes; a null text is not encoded); ids[i] their ids
/// (empty where not encoded), ok[i] false where a text was left to the caller, truncated[i] true where it was
/// cut. One text per work item; every buffer is allocated before the parallel region.
inline void wordpiece_batch(const WordPiece& wp, const char* const* texts, const std::size_t* lengths, std::size_t n,
                            std::size_t max_length, int threads, std::vector<std::vector<std::int32_t>>& ids,
                            bool* ok, bool* truncated) {
    ids.resize(n);
    std::size_t longest = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (texts[i] == nullptr) continue;
        ids[i].reserve(wp.max_ids(lengths[i], max_length));
        if (lengths[i] > longest) longest = lengths[i];
    }
#ifdef EXPOSURE_OPENMP
    const int wanted = threads > 0 ? threads : omp_get_max_threads();
    const int cap = static_cast<int>(n / 512 + 1 < static_cast<std::size_t>(wanted) ? n / 512 + 1 : wanted);
    const int used = cap > 0 ? cap : 1;
#else
    (void)threads;
    const int used = 1;
#endif
    std::vector<std::string> norms(static_cast<std::size_t>(used));  // each thread's normalised text
    for (std::string& norm : norms) norm.reserve(longest);
#ifdef EXPOSURE_OPENMP
#pragma omp parallel num_threads(used)
#endif
    {
#ifdef EXPOSURE_OPENMP
        std::string& norm = norms[static_cast<std::size_t>(omp_get_thread_num())];
#else
        std::string& norm = norms[0];
#endif
        bool cut = false;
#ifdef EXPOSURE_OPENMP
#pragma omp for schedule(dynamic, 64)
#endif
        for (std::int64_t i = 0; i < static_cast<std::int64_t>(n); ++i) {
            ok[i] = texts[i] != nullptr && wp.encode(texts[i], lengths[i], max_length, ids[i], cut, norm);
            truncated[i] = ok[i] && cut;
        }
    }
}

}  // namespace exposure
