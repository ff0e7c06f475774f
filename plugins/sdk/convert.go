package sdk

import (
	"fmt"

	pb "github.com/attnlab/attnlab/plugins/proto/v1"
)

// Conversions between the SDK's Go types and protocol messages live here,
// in one place, so plugin authors never see generated code.

func toValue(v any) (*pb.Value, error) {
	switch x := v.(type) {
	case int64:
		return &pb.Value{Kind: &pb.Value_Int{Int: x}}, nil
	case int:
		return &pb.Value{Kind: &pb.Value_Int{Int: int64(x)}}, nil
	case float64:
		return &pb.Value{Kind: &pb.Value_Float{Float: x}}, nil
	case string:
		return &pb.Value{Kind: &pb.Value_Str{Str: x}}, nil
	case bool:
		return &pb.Value{Kind: &pb.Value_Bool{Bool: x}}, nil
	}
	return nil, fmt.Errorf("value %v has type %T; want int64, float64, string or bool", v, v)
}

func fromValue(v *pb.Value) (any, error) {
	switch x := v.GetKind().(type) {
	case *pb.Value_Int:
		return x.Int, nil
	case *pb.Value_Float:
		return x.Float, nil
	case *pb.Value_Str:
		return x.Str, nil
	case *pb.Value_Bool:
		return x.Bool, nil
	}
	return nil, fmt.Errorf("empty value")
}

func toConfig(c Config) (*pb.Config, error) {
	out := &pb.Config{Values: map[string]*pb.Value{}}
	for k, v := range c {
		pv, err := toValue(v)
		if err != nil {
			return nil, fmt.Errorf("config %q: %w", k, err)
		}
		out.Values[k] = pv
	}
	return out, nil
}

func fromConfig(c *pb.Config) (Config, error) {
	out := Config{}
	for k, v := range c.GetValues() {
		x, err := fromValue(v)
		if err != nil {
			return nil, fmt.Errorf("config %q: %w", k, err)
		}
		out[k] = x
	}
	return out, nil
}

func toDescription(d Description) (*pb.Description, error) {
	out := &pb.Description{Kind: string(d.Kind), Name: d.Name, Version: d.Version, Doc: d.Doc, Capabilities: d.Capabilities}
	for _, p := range d.Params {
		pp := &pb.Param{Name: p.Name, Type: string(p.Type), Doc: p.Doc, Choices: p.Choices, Min: p.Min, Max: p.Max}
		if p.Default != nil {
			v, err := toValue(p.Default)
			if err != nil {
				return nil, fmt.Errorf("parameter %q default: %w", p.Name, err)
			}
			pp.Default = v
		}
		out.Params = append(out.Params, pp)
	}
	return out, nil
}

func fromDescription(d *pb.Description) (Description, error) {
	out := Description{Kind: Kind(d.GetKind()), Name: d.GetName(), Version: d.GetVersion(), Doc: d.GetDoc(), Capabilities: d.GetCapabilities()}
	for _, p := range d.GetParams() {
		sp := Param{Name: p.GetName(), Type: ParamType(p.GetType()), Doc: p.GetDoc(), Choices: p.GetChoices(), Min: p.Min, Max: p.Max}
		if p.Default != nil {
			v, err := fromValue(p.Default)
			if err != nil {
				return Description{}, fmt.Errorf("parameter %q default: %w", p.GetName(), err)
			}
			sp.Default = v
		}
		out.Params = append(out.Params, sp)
	}
	return out, nil
}

func toOptimizer(o Optimizer) *pb.Optimizer {
	return &pb.Optimizer{Name: o.Name, Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WeightDecay: o.WeightDecay, Momentum: o.Momentum}
}

func fromOptimizer(o *pb.Optimizer) Optimizer {
	return Optimizer{Name: o.GetName(), Beta1: o.GetBeta1(), Beta2: o.GetBeta2(), Eps: o.GetEps(), WeightDecay: o.GetWeightDecay(), Momentum: o.GetMomentum()}
}

func toAttentionSpec(s AttentionSpec) *pb.AttentionSpec {
	out := &pb.AttentionSpec{Layers: int32(s.Layers), Heads: int32(s.Heads), KvHeads: int32(s.KVHeads), HeadDim: int32(s.HeadDim),
		MaxSeq: int32(s.MaxSeq), Batch: int32(s.Batch), Causal: s.Causal, Seed: s.Seed, Optimizer: toOptimizer(s.Optimizer)}
	for _, l := range s.LayerSpecs {
		out.LayerSpecs = append(out.LayerSpecs, &pb.AttentionLayer{Role: l.Role, Causal: l.Causal, MaxQ: int32(l.MaxQ), MaxK: int32(l.MaxK)})
	}
	return out
}

func fromAttentionSpec(s *pb.AttentionSpec) AttentionSpec {
	out := AttentionSpec{Layers: int(s.GetLayers()), Heads: int(s.GetHeads()), KVHeads: int(s.GetKvHeads()), HeadDim: int(s.GetHeadDim()),
		MaxSeq: int(s.GetMaxSeq()), Batch: int(s.GetBatch()), Causal: s.GetCausal(), Seed: s.GetSeed(), Optimizer: fromOptimizer(s.GetOptimizer())}
	for _, l := range s.GetLayerSpecs() {
		out.LayerSpecs = append(out.LayerSpecs, AttentionLayer{Role: l.GetRole(), Causal: l.GetCausal(), MaxQ: int(l.GetMaxQ()), MaxK: int(l.GetMaxK())})
	}
	return out
}

func toInputSpec(s InputSpec) *pb.InputSpec {
	return &pb.InputSpec{Vocab: int32(s.Vocab), SeqLen: int32(s.SeqLen), Batch: int32(s.Batch), Classes: int32(s.Classes), Output: s.Output,
		Task: s.Task, TargetLen: int32(s.TargetLen), Generate: s.Generate, Bos: int32(s.BOS)}
}

func fromInputSpec(s *pb.InputSpec) InputSpec {
	return InputSpec{Vocab: int(s.GetVocab()), SeqLen: int(s.GetSeqLen()), Batch: int(s.GetBatch()), Classes: int(s.GetClasses()), Output: s.GetOutput(),
		Task: s.GetTask(), TargetLen: int(s.GetTargetLen()), Generate: s.GetGenerate(), BOS: int(s.GetBos())}
}

func toStepArgs(a StepArgs) *pb.StepArgs {
	return &pb.StepArgs{Step: int64(a.Step), Lr: a.LR, GradScale: a.GradScale}
}

func fromStepArgs(a *pb.StepArgs) StepArgs {
	return StepArgs{Step: int(a.GetStep()), LR: a.GetLr(), GradScale: a.GetGradScale()}
}
