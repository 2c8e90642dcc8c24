// gocheck answers questions about RFC 9162 Merkle trees and C2SP signed notes with
// independent Go implementations (github.com/transparency-dev/merkle and
// golang.org/x/mod/sumdb/note), so the Python log core can be compared against them.
//
// It reads one JSON request on stdin and writes one JSON answer on stdout:
//
//	{"op": "merkle", "leaves": ["<hex leaf data>", ...], "pairs_up_to": N}
//	  -> leaf hashes, the root at every size 0..len(leaves), every inclusion proof
//	     (index < size <= N) and every consistency proof (1 <= size1 <= size2 <= N),
//	     each also verified by the library's own verifier
//	{"op": "note-verify", "vkey": "<name+hash+base64>", "note": "<signed note>"}
//	  -> {"text": "<verified text>"} or {"error": "..."}
//	{"op": "note-sign", "skey": "<PRIVATE+KEY+...>", "text": "<note text>"}
//	  -> {"note": "<signed note>"}
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"
)

type request struct {
	Op        string   `json:"op"`
	Leaves    []string `json:"leaves"`
	PairsUpTo uint64   `json:"pairs_up_to"`
	VKey      string   `json:"vkey"`
	SKey      string   `json:"skey"`
	Note      string   `json:"note"`
	Text      string   `json:"text"`
}

type inclusion struct {
	Index  uint64   `json:"index"`
	Size   uint64   `json:"size"`
	Hashes []string `json:"hashes"`
}

type consistency struct {
	Size1  uint64   `json:"size1"`
	Size2  uint64   `json:"size2"`
	Hashes []string `json:"hashes"`
}

type merkleAnswer struct {
	LeafHashes  []string      `json:"leaf_hashes"`
	Roots       []string      `json:"roots"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

func hexes(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hex.EncodeToString(h)
	}
	return out
}

func merkle(req request) (any, error) {
	hasher := rfc6962.DefaultHasher
	tree := testonly.New(hasher)
	ans := merkleAnswer{Inclusion: []inclusion{}, Consistency: []consistency{}}
	for _, h := range req.Leaves {
		data, err := hex.DecodeString(h)
		if err != nil {
			return nil, err
		}
		tree.AppendData(data)
		ans.LeafHashes = append(ans.LeafHashes, hex.EncodeToString(hasher.HashLeaf(data)))
	}
	n := tree.Size()
	for size := uint64(0); size <= n; size++ {
		ans.Roots = append(ans.Roots, hex.EncodeToString(tree.HashAt(size)))
	}
	limit := min(req.PairsUpTo, n)
	for size := uint64(1); size <= limit; size++ {
		root := tree.HashAt(size)
		for index := uint64(0); index < size; index++ {
			p, err := tree.InclusionProof(index, size)
			if err != nil {
				return nil, err
			}
			if err := proof.VerifyInclusion(hasher, index, size, tree.LeafHash(index), p, root); err != nil {
				return nil, fmt.Errorf("own inclusion proof %d/%d: %w", index, size, err)
			}
			ans.Inclusion = append(ans.Inclusion, inclusion{index, size, hexes(p)})
		}
		for size1 := uint64(1); size1 <= size; size1++ {
			p, err := tree.ConsistencyProof(size1, size)
			if err != nil {
				return nil, err
			}
			if err := proof.VerifyConsistency(hasher, size1, size, p, tree.HashAt(size1), root); err != nil {
				return nil, fmt.Errorf("own consistency proof %d->%d: %w", size1, size, err)
			}
			ans.Consistency = append(ans.Consistency, consistency{size1, size, hexes(p)})
		}
	}
	return ans, nil
}

func noteVerify(req request) (any, error) {
	v, err := note.NewVerifier(req.VKey)
	if err != nil {
		return nil, err
	}
	n, err := note.Open([]byte(req.Note), note.VerifierList(v))
	if err != nil {
		return nil, err
	}
	return map[string]string{"text": n.Text}, nil
}

func noteSign(req request) (any, error) {
	s, err := note.NewSigner(req.SKey)
	if err != nil {
		return nil, err
	}
	signed, err := note.Sign(&note.Note{Text: req.Text}, s)
	if err != nil {
		return nil, err
	}
	return map[string]string{"note": string(signed)}, nil
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "bad request:", err)
		os.Exit(2)
	}
	var ans any
	var err error
	switch req.Op {
	case "merkle":
		ans, err = merkle(req)
	case "note-verify":
		ans, err = noteVerify(req)
	case "note-sign":
		ans, err = noteSign(req)
	default:
		err = fmt.Errorf("unknown op %q", req.Op)
	}
	if err != nil {
		ans = map[string]string{"error": err.Error()}
	}
	if err := json.NewEncoder(os.Stdout).Encode(ans); err != nil {
		os.Exit(1)
	}
}
