package experiments

// This test (not the package) imports plugins/sdk: Schema and Param
// mirror sdk's types, and resolution must agree with
// sdk.Description.Resolve, which the plugin runs on the same values.

import (
	"reflect"
	"testing"

	"github.com/attnlab/attnlab/plugins/sdk"
)

func TestAgreesWithSDK(t *testing.T) {
	if KindObjective != string(sdk.KindObjective) || KindArchitecture != string(sdk.KindArchitecture) || KindAttention != string(sdk.KindAttention) {
		t.Error("Kind constants differ from sdk.Kind")
	}
	if ParamInt != string(sdk.Int) || ParamFloat != string(sdk.Float) || ParamString != string(sdk.String) || ParamBool != string(sdk.Bool) {
		t.Error("Param type constants differ from sdk.ParamType")
	}
	if n := reflect.TypeOf(Param{}).NumField(); n != reflect.TypeOf(sdk.Param{}).NumField() {
		t.Errorf("Param has %d fields, sdk.Param %d: mirror the new ones", n, reflect.TypeOf(sdk.Param{}).NumField())
	}

	params := []sdk.Param{
		{Name: "i", Type: sdk.Int, Default: int64(2), Min: sdk.Bound(1), Max: sdk.Bound(8)},
		{Name: "f", Type: sdk.Float, Default: 0.5, Min: sdk.Bound(0), Max: sdk.Bound(1)},
		{Name: "s", Type: sdk.String, Default: "a", Choices: []string{"a", "b"}},
		{Name: "free", Type: sdk.String, Default: ""},
		{Name: "b", Type: sdk.Bool, Default: false},
		{Name: "need", Type: sdk.Int},
	}
	values := []any{int64(0), int64(1), int64(8), int64(9), 2.0, 2.5, 0.0, 1.0, -0.5, "a", "b", "c", "", true, false}
	ours := Schema{}
	for _, p := range params {
		ours.Params = append(ours.Params, Param{Name: p.Name, Type: string(p.Type), Default: p.Default, Doc: p.Doc, Choices: p.Choices, Min: p.Min, Max: p.Max})
	}
	desc := sdk.Description{Kind: sdk.KindAttention, Name: "x", Params: params}
	for _, p := range params {
		for _, v := range values {
			raw := map[string]any{p.Name: v, "need": int64(1)}
			want, wantErr := desc.Resolve(raw)
			ps := newProblems("x.yaml")
			got := resolveParams(ps, ours, "attention", Component{Plugin: "x", Params: raw}, func(k string) keyPath { return path(k) })
			gotErr := ps.err()
			if (wantErr != nil) != (gotErr != nil) {
				t.Errorf("%s = %v (%T): sdk error %v, ours %v", p.Name, v, v, wantErr, gotErr)
				continue
			}
			if wantErr == nil && !reflect.DeepEqual(map[string]any(want), got) {
				t.Errorf("%s = %v: sdk resolves %v, ours %v", p.Name, v, want, got)
			}
		}
	}
	// A missing required parameter and an unknown one fail in both.
	for _, raw := range []map[string]any{{}, {"need": int64(1), "other": 1}} {
		_, wantErr := desc.Resolve(raw)
		ps := newProblems("x.yaml")
		resolveParams(ps, ours, "attention", Component{Plugin: "x", Params: raw}, func(k string) keyPath { return path(k) })
		if wantErr == nil || ps.err() == nil {
			t.Errorf("%v: sdk error %v, ours %v", raw, wantErr, ps.err())
		}
	}
}
